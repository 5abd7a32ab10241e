"""Device SDK: AI device software reports its own behaviour to Vigie.

>>> from vigie_sdk import DeviceReporter, summarise_window   # doctest: +SKIP
>>> reporter = DeviceReporter.from_properties("device.properties", spool_path="telemetry.spool")
>>> reporter.send(summarise_window(device, start, end, scores=scores, features=inputs))
"""

from vigie_sdk.reporter import DeviceReporter, HttpReporter
from vigie_sdk.spool import Spool
from vigie_sdk.windows import summarise_window

__all__ = ["DeviceReporter", "HttpReporter", "Spool", "summarise_window"]
