"""Identity: the staff and customer user pools, in the primary region only.

Stateful (users, their MFA devices and group memberships cannot be re-created), so it is its own stack with
termination protection, and nothing in it refers to a stateless stack.
"""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from ..config import DeploymentConfig
from ..constructs.identity import CustomerDirectory, StaffDirectory


class IdentityStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: DeploymentConfig) -> None:
        super().__init__(
            scope,
            construct_id,
            env=cdk.Environment(account=config.account, region=config.primary_region),
            description="Caseline identity: staff and customer user pools",
            termination_protection=True,
            cross_region_references=True,
        )
        self.staff = StaffDirectory(self, "Staff", config=config)
        self.customers = CustomerDirectory(self, "Customers", config=config)
        cdk.CfnOutput(self, "StaffUserPoolId", value=self.staff.pool.user_pool_id)
        cdk.CfnOutput(self, "CustomerUserPoolId", value=self.customers.pool.user_pool_id)
        cdk.CfnOutput(self, "StaffSignInDomain", value=self.staff.domain.base_url())
        cdk.CfnOutput(self, "CustomerSignInDomain", value=self.customers.domain.base_url())
