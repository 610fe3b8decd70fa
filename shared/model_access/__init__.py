"""model-access: least-privilege access to each SageMaker model for the role its tags name.

Pure core (events, owner, access, policy, packing, plan, decide, summary) with thin boto3
adapters under `model_access.aws`; `reconcile` wires them into the one reconcile path.
"""

__version__ = "0.1.0"
