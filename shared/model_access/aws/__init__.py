"""Small boto3 adapters: each turns AWS answers into the project's types and errors."""
