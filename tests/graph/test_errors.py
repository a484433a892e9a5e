"""Error masking: expected errors pass, input faults become BAD_USER_INPUT, the rest are opaque."""

from __future__ import annotations

import logging

import pytest
from asyncpg.exceptions import CharacterNotInRepertoireError
from graphql import GraphQLError

from graph.errors import masked, unwritten_names_hidden


def _raised(original: Exception, path: list[str | int] | None = None) -> GraphQLError:
    return GraphQLError(str(original), path=path, original_error=original)


def test_expected_errors_pass_unchanged() -> None:
    error = GraphQLError("`imo`: bad", path=["vessel"], extensions={"code": "BAD_USER_INPUT"})
    assert masked(error) is error


def test_unexpected_errors_are_masked_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="harborgraph.errors"):
        shown = masked(_raised(KeyError("secret_column"), ["containers"]))
    assert shown.message.startswith("Internal server error (reference ")
    assert "secret_column" not in shown.message
    assert shown.extensions == {"code": "INTERNAL_SERVER_ERROR"}
    assert shown.path == ["containers"]
    assert caplog.records[0].exc_info is not None


@pytest.mark.parametrize(
    "original",
    [
        CharacterNotInRepertoireError("invalid byte sequence for encoding UTF8: 0x00"),
        OverflowError("date value out of range"),
        UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"),
    ],
)
def test_values_the_database_refuses_are_bad_user_input(original: Exception) -> None:
    shown = masked(_raised(original, ["vessels"]))
    assert shown.extensions == {"code": "BAD_USER_INPUT"}
    assert shown.path == ["vessels"]


def test_suggestions_are_hidden_outside_development() -> None:
    error = GraphQLError("Unknown type 'ContainerFiltr'. Did you mean 'ContainerFilter'?")
    assert masked(error, hide_suggestions=True).message == "Unknown type 'ContainerFiltr'."
    again = GraphQLError("Unknown type 'ContainerFiltr'. Did you mean 'ContainerFilter'?")
    assert masked(again).message.endswith("Did you mean 'ContainerFilter'?")


def test_pre_execution_errors_get_apollo_codes() -> None:
    assert masked(GraphQLError("Syntax Error: Expected Name")).extensions == {
        "code": "GRAPHQL_PARSE_FAILED"
    }
    assert masked(GraphQLError("Unknown argument 'x'")).extensions == {
        "code": "GRAPHQL_VALIDATION_FAILED"
    }


def test_production_hides_each_quoted_name_the_caller_did_not_write() -> None:
    written = "query Q($n: Int) { me { organization } }"
    message = (
        "Field 'organization' of type 'Organization' must have a selection of subfields."
        " Variable '$n' of type 'Int' used in position expecting type '[EventInput!]!'."
    )
    assert unwritten_names_hidden(message, written) == (
        "Field 'organization' of type '…' must have a selection of subfields."
        " Variable '$n' of type 'Int' used in position expecting type '…'."
    )
