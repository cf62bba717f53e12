"""Compose the whole deployment: which stacks exist, in which region, in which order.

stack (region)                        lifecycle  holds
Caseline-Data-<secondary>              stateful   data key, idempotency table, attachment replica
Caseline-Data-<primary>                stateful   data key, global table (+ replica), attachments
Caseline-Identity (primary)            stateful   staff and customer user pools
Caseline-EdgeOrigin-<secondary>        edge       failover copies of the web buckets
Caseline-Edge (primary)                edge       CloudFront distributions, web buckets, app clients
Caseline-Service-<region> (both)       stateless  functions, API, WAF, domain, events, dashboards

`cdk deploy --all` follows the dependencies below; docs/deploy.md explains each step.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import aws_cdk as cdk
from caseline.settings import AdapterSet, Settings

from . import nag
from .build import LambdaBuild
from .config import REPO_ROOT, DeploymentConfig
from .stacks.data import DataStack
from .stacks.edge import EdgeOriginStack, EdgeStack
from .stacks.identity import IdentityStack
from .stacks.service import ServiceStack


def new_app(context: Mapping[str, object] | None = None, outdir: str | Path | None = None) -> cdk.App:
    """An App carrying cdk.json's context, so `python infra/app.py` and `cdk synth` build the same thing.

    The CDK CLI passes cdk.json's context itself (and it wins over these values); running the app
    directly does not, which would silently drop the feature flags and configuration.
    """
    defaults = json.loads((REPO_ROOT / "cdk.json").read_text()).get("context", {})
    return cdk.App(context={**defaults, **(context or {})}, outdir=str(outdir) if outdir else None)


def build_app(app: cdk.App, *, build: LambdaBuild | None = None) -> dict[str, cdk.Stack]:
    config = DeploymentConfig.from_node(app.node)
    settings = Settings(adapters=AdapterSet.AWS)
    build = build or LambdaBuild()
    primary, secondary = config.regions

    data_secondary = DataStack(app, f"Caseline-Data-{secondary}", config=config, settings=settings, region=secondary)
    data_primary = DataStack(app, f"Caseline-Data-{primary}", config=config, settings=settings, region=primary)
    # The replica and the attachment replication use the secondary region's key and bucket.
    data_primary.add_stack_dependency(data_secondary, "replicas are encrypted with the secondary data key")

    identity = IdentityStack(app, "Caseline-Identity", config=config)
    edge_origin = EdgeOriginStack(app, f"Caseline-EdgeOrigin-{secondary}", config=config)
    edge = EdgeStack(app, "Caseline-Edge", config=config, identity=identity)
    edge.add_stack_dependency(edge_origin, "web buckets replicate into the failover origins")

    stacks: dict[str, cdk.Stack] = {
        "data-secondary": data_secondary,
        "data-primary": data_primary,
        "identity": identity,
        "edge-origin": edge_origin,
        "edge": edge,
    }
    for region, data in ((primary, data_primary), (secondary, data_secondary)):
        service = ServiceStack(
            app,
            f"Caseline-Service-{region}",
            config=config,
            settings=settings,
            build=build,
            region=region,
            data=data,
            primary_data=data_primary,
            identity=identity,
            edge=edge,
        )
        service.add_stack_dependency(data_primary, "the global table and its replica must exist")
        stacks[f"service-{'primary' if region == primary else 'secondary'}"] = service

    cdk.Tags.of(app).add("application", "caseline")
    nag.enforce(app)
    return stacks
