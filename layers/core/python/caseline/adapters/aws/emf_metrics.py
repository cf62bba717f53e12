"""Business metrics as CloudWatch Embedded Metric Format lines, through Powertools."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit, single_metric

NAMESPACE = "Caseline"


class EmfMetrics:
    def __init__(self, service: str = "caseline") -> None:
        self.service = service

    def add(self, name: str, value: float, unit: str = "Count") -> None:
        with single_metric(name=name, unit=MetricUnit(unit), value=value, namespace=NAMESPACE) as metric:
            metric.add_dimension(name="service", value=self.service)
