"""Who can sign in: one Cognito user pool for staff, one for customers.

Two pools, not one with a flag: staff and customers have different sign-up rules (invited vs self
sign-up), different federation (corporate SSO vs none) and different blast radius; a bug in the customer
sign-up path cannot mint a staff identity. Groups are the roles the service layer checks; the custom
attribute `caseline_id` ties an identity to our agent or customer record.

Cognito user pools are regional and cannot be replicated, so both pools live in the primary region and
both regions' APIs trust them (see docs/decisions/0103-identity-in-primary-region.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from ..config import DeploymentConfig, SsoProvider
from ..nag import acknowledge, acknowledge_all

STAFF_GROUPS = ("agent", "supervisor", "admin")
CUSTOMER_GROUPS = ("customer",)
CASELINE_ID = "caseline_id"


def _password_policy(min_length: int) -> cognito.PasswordPolicy:
    return cognito.PasswordPolicy(
        min_length=min_length,
        require_digits=True,
        require_lowercase=True,
        require_uppercase=True,
        require_symbols=True,
        temp_password_validity=cdk.Duration.days(3),
    )


def _pool(scope: Construct, *, name: str, self_sign_up: bool, min_password: int) -> cognito.UserPool:
    pool = cognito.UserPool(
        scope,
        "Pool",
        user_pool_name=name,
        self_sign_up_enabled=self_sign_up,
        sign_in_aliases=cognito.SignInAliases(email=True),
        sign_in_case_sensitive=False,
        auto_verify=cognito.AutoVerifiedAttrs(email=True),
        keep_original=cognito.KeepOriginalAttrs(email=True),
        standard_attributes=cognito.StandardAttributes(
            email=cognito.StandardAttribute(required=True, mutable=True),
        ),
        custom_attributes={CASELINE_ID: cognito.StringAttribute(min_len=1, max_len=64, mutable=True)},
        mfa=cognito.Mfa.OPTIONAL,
        mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
        password_policy=_password_policy(min_password),
        account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
        deletion_protection=True,
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    plus_tier = (
        "Threat protection needs the Cognito Plus feature plan, priced per monthly active user; it "
        "is a business decision left to the operator, not a default of an open-source deployment."
    )
    acknowledge_all(pool, {"COG3": plus_tier, "COG8": plus_tier})
    return pool


class StaffDirectory(Construct):
    """Agents, supervisors and admins: invited by an admin, optionally federated through SSO."""

    def __init__(self, scope: Construct, construct_id: str, *, config: DeploymentConfig) -> None:
        super().__init__(scope, construct_id)
        self.pool = _pool(self, name="caseline-staff", self_sign_up=False, min_password=12)
        acknowledge(
            self.pool,
            "COG2",
            "MFA is available (TOTP) but not forced in the pool: staff who sign in through the "
            "company's SSO get MFA from their identity provider, where it belongs.",
        )
        self.groups = {
            group: cognito.UserPoolGroup(self, f"{group.title()}Group", user_pool=self.pool, group_name=group)
            for group in STAFF_GROUPS
        }
        # The hosted sign-in domain is what SAML/OIDC federation redirects through.
        self.domain = self.pool.add_domain(
            "Domain",
            cognito_domain=cognito.CognitoDomainOptions(domain_prefix=f"caseline-staff-{config.account}"),
        )
        self.identity_providers = self._federation(config.sso) if config.sso else []

    def _federation(self, sso: SsoProvider) -> list[cognito.UserPoolClientIdentityProvider]:
        """The SSO hook: one SAML or OIDC provider from context, mapped onto the email attribute."""
        email = cognito.AttributeMapping(email=cognito.ProviderAttribute.other("email"))
        if sso.saml_metadata_url:
            provider: cognito.UserPoolIdentityProviderBase = cognito.UserPoolIdentityProviderSaml(
                self,
                "Saml",
                user_pool=self.pool,
                name=sso.name,
                metadata=cognito.UserPoolIdentityProviderSamlMetadata.url(sso.saml_metadata_url),
                attribute_mapping=email,
            )
        elif sso.oidc_issuer and sso.oidc_client_id and sso.oidc_client_secret_name:
            provider = cognito.UserPoolIdentityProviderOidc(
                self,
                "Oidc",
                user_pool=self.pool,
                name=sso.name,
                issuer_url=sso.oidc_issuer,
                client_id=sso.oidc_client_id,
                # A Secrets Manager dynamic reference: resolved by CloudFormation, never in the template.
                client_secret=cdk.SecretValue.secrets_manager(sso.oidc_client_secret_name).unsafe_unwrap(),
                scopes=["openid", "email", "profile"],
                attribute_mapping=email,
            )
        else:
            raise ValueError("caseline:sso needs saml_metadata_url, or oidc_issuer + client id + secret")
        self.federation_provider = provider
        return [cognito.UserPoolClientIdentityProvider.custom(sso.name)]


class CustomerDirectory(Construct):
    """Customers: self sign-up with a verified email, for the portal."""

    def __init__(self, scope: Construct, construct_id: str, *, config: DeploymentConfig) -> None:
        super().__init__(scope, construct_id)
        self.pool = _pool(self, name="caseline-customers", self_sign_up=True, min_password=10)
        acknowledge(
            self.pool,
            "COG2",
            "Customers choose whether to turn on MFA (TOTP is offered); forcing it on a support portal "
            "would keep people with a problem from reporting it.",
        )
        self.groups = {
            group: cognito.UserPoolGroup(self, f"{group.title()}Group", user_pool=self.pool, group_name=group)
            for group in CUSTOMER_GROUPS
        }
        self.domain = self.pool.add_domain(
            "Domain",
            cognito_domain=cognito.CognitoDomainOptions(domain_prefix=f"caseline-customers-{config.account}"),
        )


def web_client(
    scope: Construct,
    construct_id: str,
    *,
    pool: cognito.IUserPool,
    callback_urls: Sequence[str],
    identity_providers: Sequence[cognito.UserPoolClientIdentityProvider] = (),
) -> cognito.UserPoolClient:
    """A public app client for a single-page app: authorization code with PKCE, no secret, SRP for the
    app's own sign-in form, short-lived tokens with a refresh token."""
    return cognito.UserPoolClient(
        scope,
        construct_id,
        user_pool=pool,
        generate_secret=False,
        auth_flows=cognito.AuthFlow(user_srp=True),
        prevent_user_existence_errors=True,
        enable_token_revocation=True,
        access_token_validity=cdk.Duration.minutes(60),
        id_token_validity=cdk.Duration.minutes(60),
        refresh_token_validity=cdk.Duration.days(30),
        supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO, *identity_providers],
        o_auth=cognito.OAuthSettings(
            flows=cognito.OAuthFlows(authorization_code_grant=True),
            scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
            callback_urls=list(callback_urls),
            logout_urls=list(callback_urls),
        ),
        read_attributes=cognito.ClientAttributes()
        .with_standard_attributes(email=True, email_verified=True)
        .with_custom_attributes(CASELINE_ID),
        # The app may not write caseline_id: only the platform links an identity to a record.
        write_attributes=cognito.ClientAttributes().with_standard_attributes(email=True),
    )
