"""One translation helper for the `qianke` command and every capability subcommand."""

from __future__ import annotations

import importlib

import pytest
from django.utils import translation

from qianke.core import cli_text

CLI_MODULES = ("qianke.cli", "qianke.dataio.cli", "qianke.pipeline.cli", "qianke.pool.cli", "qianke.dedupe.merge_cli",
               "qianke.dedupe.cli")


@pytest.mark.parametrize("name", CLI_MODULES)
def test_every_command_module_translates_with_the_shared_helper(name):
    module = importlib.import_module(name)
    assert getattr(module, "_", cli_text.gettext) is cli_text.gettext


def test_the_helper_gives_the_message_in_the_active_language():
    with translation.override("zh-hans"):
        assert cli_text.gettext("Import not found.") == "未找到该导入任务。"
    with translation.override("en"):
        assert cli_text.gettext("Import not found.") == "Import not found."
