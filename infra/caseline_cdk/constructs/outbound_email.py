"""Outbound email in one region: replies leave through SES, and SES tells us what became of them.

    bus (caseline.case.reply_added) ─rule─► outbound_email ─ses:SendEmail (raw, configuration set)─► SES
    SES configuration set `caseline` ─event destination (Bounce, Complaint, Delivery, Reject)─► SNS topic
        ─subscription (dead-letter queue)─► email_feedback ─► delivery state, bouncing address, complaint flag

* The sending identity is the support address's domain, verified with Easy DKIM: its three CNAME records go
  into the deployment's hosted zone when the domain is in it (the default, support@<domain>), otherwise they
  are stack outputs to publish by hand. The configuration set is the identity's default too.
* The topic is encrypted with a key of its own: SES must be able to use the key to publish, and the key
  policy says so for this account's configuration set only (`aws:SourceAccount`, `aws:SourceArn`); the
  topic policy that the event destination adds admits SES on the same terms. Only TLS publishers.
* The sender may call ses:SendEmail / ses:SendRawEmail on this identity and configuration set only.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_ses as ses
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from .events import DeadLetterQueue, EventBackbone
from .functions import CaselineFunction, dead_letter

SES = "ses.amazonaws.com"
FEEDBACK_EVENTS = (ses.EmailSendingEvent.BOUNCE, ses.EmailSendingEvent.COMPLAINT, ses.EmailSendingEvent.DELIVERY,
                   ses.EmailSendingEvent.REJECT)
REPLY_ADDED = "caseline.case.reply_added"


class OutboundEmail(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        sender: CaselineFunction,
        feedback: CaselineFunction,
        events_backbone: EventBackbone,
        sending_domain: str,
        domain_name: str,
        hosted_zone_id: str,
        configuration_set_name: str,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.sender = sender
        self.feedback = feedback
        self.configuration_set = ses.ConfigurationSet(
            self,
            "ConfigurationSet",
            configuration_set_name=configuration_set_name,
            reputation_metrics=True,
            sending_enabled=True,
            tls_policy=ses.ConfigurationSetTlsPolicy.REQUIRE,
            suppression_reasons=ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS,
        )
        self.identity = ses.EmailIdentity(
            self,
            "Identity",
            identity=ses.Identity.domain(sending_domain),
            configuration_set=self.configuration_set,
            feedback_forwarding=False,  # the configuration set's topic reports bounces and complaints
        )
        self._publish_dkim(sending_domain, domain_name, hosted_zone_id)
        self.identity_arn = stack.format_arn(service="ses", resource="identity", resource_name=sending_domain)
        self.configuration_set_arn = stack.format_arn(
            service="ses", resource="configuration-set", resource_name=configuration_set_name
        )
        source = {"aws:SourceAccount": stack.account}
        source_arn = {"aws:SourceArn": self.configuration_set_arn}

        self.key = kms.Key(
            self,
            "TopicKey",
            description="Encrypts the SES feedback topic of outbound email",
            enable_key_rotation=True,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal(SES)],
                actions=["kms:GenerateDataKey*", "kms:Decrypt"],
                resources=["*"],  # in a key policy, "*" is this key
                conditions={"StringEquals": source, "ArnLike": source_arn},
            )
        )
        self.topic = sns.Topic(
            self,
            "Feedback",
            display_name="Caseline SES feedback",
            master_key=self.key,
            enforce_ssl=True,
        )
        self.configuration_set.add_event_destination(
            "ToFeedbackTopic",
            destination=ses.EventDestination.sns_topic(self.topic),
            events=list(FEEDBACK_EVENTS),
        )
        # SNS delivers to Lambda asynchronously; what the function cannot take after its retries, SNS keeps here.
        self.subscription_dead_letters = dead_letter(self, "SubscriptionDeadLetters")
        self.topic.add_subscription(
            subscriptions.LambdaSubscription(feedback.function, dead_letter_queue=self.subscription_dead_letters)
        )

        self.grant_send(sender)
        self.rule = events_backbone.add_consumer("outbound-email", sender, detail_types=[REPLY_ADDED])
        self.dead_letter_queues = [DeadLetterQueue("email-feedback-subscription", self.subscription_dead_letters)]
        if feedback.dead_letter_queue is not None:
            self.dead_letter_queues.append(DeadLetterQueue("email-feedback", feedback.dead_letter_queue))

    def grant_send(self, made: CaselineFunction) -> None:
        """Let a function send through this identity and configuration set (and nothing else in SES)."""
        made.role.add_to_policy(
            iam.PolicyStatement(
                actions=["ses:SendEmail", "ses:SendRawEmail"],
                resources=[self.identity_arn, self.configuration_set_arn],
            )
        )

    def _publish_dkim(self, sending_domain: str, zone_name: str, hosted_zone_id: str) -> None:
        """Easy DKIM's three CNAMEs: in the deployment's zone when the support domain is in it, else as outputs
        for whoever runs that domain's DNS (docs/deploy.md)."""
        tokens = [
            (self.identity.dkim_dns_token_name1, self.identity.dkim_dns_token_value1),
            (self.identity.dkim_dns_token_name2, self.identity.dkim_dns_token_value2),
            (self.identity.dkim_dns_token_name3, self.identity.dkim_dns_token_value3),
        ]
        if sending_domain == zone_name or sending_domain.endswith("." + zone_name):
            zone = route53.HostedZone.from_hosted_zone_attributes(
                self, "Zone", hosted_zone_id=hosted_zone_id, zone_name=zone_name
            )
            for number, (name, value) in enumerate(tokens, start=1):
                route53.CnameRecord(self, f"Dkim{number}", zone=zone, record_name=name, domain_name=value)
            return
        for number, (name, value) in enumerate(tokens, start=1):
            cdk.CfnOutput(self, f"DkimRecord{number}", value=cdk.Fn.join(" CNAME ", [name, value]))
