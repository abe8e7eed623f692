"""Options shared by the pipeline commands (run, stream push|work|status, metrics), in a leaf
module so that commands_pipeline.py stays one screenful per command."""

from __future__ import annotations

import click

from gardefou.cli.options import int_option

REDIS_OPT = click.option(
    "--redis",
    "redis_url",
    envvar="GARDEFOU_REDIS_URL",
    default="redis://127.0.0.1:6379/0",
    show_default=True,
    help="Redis URL [env GARDEFOU_REDIS_URL].",
)
STREAM_OPT = click.option(
    "--stream", default="gardefou:events", show_default=True, help="Redis stream key of the events."
)
GROUP_OPT = click.option(
    "--group",
    default="gardefou-deciders",
    show_default=True,
    help="Consumer group of the deciders.",
)
DECIDER_OPT = click.option(
    "--decider",
    default=None,
    metavar="MODULE:FACTORY",
    help="Decider factory [default: the platform policy when installed, else signals only].",
)
MAX_EVENT_OPT = int_option(
    "--max-event-bytes", default=8 * 1024 * 1024, help="Larger events go to the dead letters."
)
SUMMARY_JSON_OPT = click.option(
    "--json", "as_json", is_flag=True, help="Print the summary as JSON."
)
