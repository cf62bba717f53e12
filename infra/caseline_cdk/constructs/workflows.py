"""State machines from `statemachines/*.asl.json`, inlined into the template.

`DefinitionBody.from_file` would upload the definition as an S3 asset, so the template alone would not
show what runs. We read the file, check that its `${Placeholders}` and the substitutions given match one
for one (a forgotten placeholder otherwise fails at execution time, not at deploy), and inline it with
`DefinitionBody.from_string`; CloudFormation fills the placeholders (`Fn::Sub`), which is what lets a
substitution be a token such as a function ARN.

Every workflow gets full execution logging and X-Ray tracing; the SLA and GDPR issues create them with
`AslStateMachine` and register them with `Monitoring.add_state_machine`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from .functions import retention

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


class DefinitionError(ValueError):
    """The ASL file and the substitutions given for it do not match."""


def inline_definition(path: Path, substitutions: Mapping[str, str]) -> sfn.DefinitionBody:
    text = path.read_text()
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        raise DefinitionError(f"{path.name} is not valid JSON: {error}") from error
    placeholders = set(_PLACEHOLDER.findall(text))
    missing = placeholders - set(substitutions)
    unused = set(substitutions) - placeholders
    if missing or unused:
        raise DefinitionError(
            f"{path.name}: placeholders without a value {sorted(missing)}, values without a placeholder "
            f"{sorted(unused)}"
        )
    return sfn.DefinitionBody.from_string(text)


class AslStateMachine(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        definition_file: Path,
        substitutions: Mapping[str, str],
        log_retention_days: int,
        state_machine_type: sfn.StateMachineType = sfn.StateMachineType.STANDARD,
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = logs.LogGroup(
            self, "Logs", retention=retention(log_retention_days), removal_policy=cdk.RemovalPolicy.DESTROY
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            definition_body=inline_definition(definition_file, substitutions),
            definition_substitutions=dict(substitutions),
            state_machine_type=state_machine_type,
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
        )
