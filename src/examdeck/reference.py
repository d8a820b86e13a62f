"""The README's command reference, generated from the CLI's own --help texts (run by cog)."""

from __future__ import annotations

import click


def command_reference() -> str:
    """Markdown: `examdeck --help` and every command's --help, in the order the group lists them."""
    from .cli import main

    context = click.Context(main)
    sections = [_help_section("examdeck", main, [])]
    for name in main.list_commands(context):
        command = main.get_command(context, name)
        assert command is not None
        sections.append(_help_section(f"examdeck {name}", command, [name]))
        if isinstance(command, click.Group):
            for sub in sorted(command.commands):
                sections.append(_help_section(f"examdeck {name} {sub}", command.commands[sub], [name, sub]))
    return "\n".join(sections)


def _help_section(title: str, command: click.Command, path: list[str]) -> str:
    from click.testing import CliRunner

    from .cli import main

    output = CliRunner().invoke(main, [*path, "--help"], prog_name="examdeck", terminal_width=100).output
    return f"### `{title}`\n\n```text\n{output.rstrip()}\n```\n"
