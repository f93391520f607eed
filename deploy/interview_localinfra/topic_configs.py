"""Apply each catalogue topic's retention policy on the broker, for new and existing topics.

Topics made before the catalogue stated a policy carry the broker's default (7 days), which
would silently drop the log a replay or a rebuild reads, so existing topics are fixed too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from interview_shared.topics import Topic

_NO_ERROR: Final = 0


class TopicConfigError(RuntimeError):
    """The broker refused to describe or change a topic's configs."""


def _check(resources: list[tuple[Any, ...]], action: str) -> None:
    for code, message, _type, name, *_ in resources:
        if code != _NO_ERROR:
            raise TopicConfigError(f"{action} configs of {name!r} failed: error {code} {message}")


async def describe_topic_configs(
    admin: AIOKafkaAdminClient, names: Sequence[str]
) -> dict[str, dict[str, str]]:
    """Topic name -> its effective configs (config name -> value), as the broker reports them."""
    resources = [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
    configs: dict[str, dict[str, str]] = {}
    for response in await admin.describe_configs(resources):
        _check(response.resources, "describing")
        for _code, _message, _type, name, entries in response.resources:
            configs[name] = {entry[0]: entry[1] for entry in entries}
    return configs


def _drifted(topics: Sequence[Topic], actual: dict[str, dict[str, str]]) -> list[Topic]:
    return [
        t
        for t in topics
        if any(actual.get(t.name, {}).get(k) != v for k, v in t.retention.configs().items())
    ]


async def apply_retention(admin: AIOKafkaAdminClient, topics: Sequence[Topic]) -> list[str]:
    """Make every topic's configs state its catalogue policy; return the names changed.

    AlterConfigs (not the incremental variant, which aiokafka lacks) replaces a topic's whole
    set of dynamic configs: that is what we want, the catalogue owns every topic's configs.
    """
    drifted = _drifted(topics, await describe_topic_configs(admin, [t.name for t in topics]))
    if not drifted:
        return []
    resources = [
        ConfigResource(ConfigResourceType.TOPIC, t.name, t.retention.configs()) for t in drifted
    ]
    for response in await admin.alter_configs(resources):
        _check(response.resources, "altering")
    return [t.name for t in drifted]
