"""model-access: SageMaker model events -> queue -> provisioner, plus backfill and dashboard.

The ready-made program: reads the stack config (every key of Pulumi.yaml, checked before
anything is declared) and declares the whole stack as one `ModelAccess` component, the same
one a platform team can embed in its own program (docs/deploy.md).
"""

import pulumi

from model_access_infra import ModelAccess, ModelAccessArgs, StackConfig

config = StackConfig.from_pulumi(pulumi.Config())
config.check()
stack = ModelAccess(config.name_prefix, ModelAccessArgs(config=config))

for key, value in stack.outputs.items():
    pulumi.export(key, value)
