"""The organisation-glossary routes' input and SQL, without a database: search parameters,
cursors, the query text and its parameters, pages, termids, domains and correction bodies."""

from __future__ import annotations

import base64
import uuid

import pytest
from pydantic import ValidationError

from glossify.protocol import ProtocolError
from glossify.store.glossary import Cursor, GlossaryQuery, page_of, search_query
from glossify.terms.candidates import term_id
from glossify.web.glossary_input import (
    DEFAULT_SEARCH_PAGE,
    MAX_SEARCH_PAGE,
    GlossaryCorrection,
    check_term_matches,
    parse_domain,
    parse_termid,
    search_params,
)

TID = uuid.UUID("0d5b7c4e-1111-5222-8333-444455556666")


def refused(call: object, *args: object) -> ProtocolError:
    with pytest.raises(ProtocolError) as caught:
        call(*args)  # type: ignore[operator]
    return caught.value


# --- search parameters ----------------------------------------------------------------------


def test_no_parameters_is_the_first_page_of_everything() -> None:
    assert search_params({}) == GlossaryQuery(None, None, None, DEFAULT_SEARCH_PAGE)
    assert search_params({"q": "  ", "domain": "", "after": ""}).text is None


def test_text_and_domain_are_trimmed() -> None:
    query = search_params({"q": "  Kube ", "domain": " Cloud ", "limit": "7"})
    assert (query.text, query.domain, query.limit) == ("Kube", "Cloud", 7)


@pytest.mark.parametrize("limit", ["0", str(MAX_SEARCH_PAGE + 1), "-1", "x", "²", "1e3", "9" * 30])
def test_a_limit_out_of_range_or_not_a_number_is_400(limit: str) -> None:
    error = refused(search_params, {"limit": limit})
    assert (error.status, error.code) == (400, "invalid_limit")


@pytest.mark.parametrize("q", ["a\x00b", "tab\there", "x" * 201, "\ud800"])
def test_text_with_control_characters_or_too_long_is_400(q: str) -> None:
    assert refused(search_params, {"q": q}).code == "invalid_query"


def test_a_domain_too_long_or_with_control_characters_is_400() -> None:
    assert refused(search_params, {"domain": "d" * 65}).code == "invalid_domain"
    assert refused(search_params, {"domain": "a\nb"}).code == "invalid_domain"


def test_a_cursor_comes_back_as_it_was_made() -> None:
    cursor = Cursor("온보딩 퍼널", "CI/CD", TID)
    assert search_params({"after": cursor.encode()}).after == cursor


@pytest.mark.parametrize(
    "after",
    [
        "abc",
        "!!!",
        base64.urlsafe_b64encode(b'["a", "b"]').decode(),
        base64.urlsafe_b64encode(b'["a", "b", "not-a-uuid"]').decode(),
        base64.urlsafe_b64encode(b'[1, "b", "0d5b7c4e-1111-5222-8333-444455556666"]').decode(),
        base64.urlsafe_b64encode(
            b'["a\\u0000", "b", "0d5b7c4e-1111-5222-8333-444455556666"]'
        ).decode(),
        base64.urlsafe_b64encode(
            b'["\\ud800", "b", "0d5b7c4e-1111-5222-8333-444455556666"]'
        ).decode(),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        "A" * 5000,
    ],
)
def test_anything_else_as_a_cursor_is_400(after: str) -> None:
    assert refused(search_params, {"after": after}).code == "invalid_after"


# --- the SQL --------------------------------------------------------------------------------


def test_everything_is_ordered_by_term_then_domain_and_one_row_more_is_asked() -> None:
    sql, params = search_query(GlossaryQuery(limit=10))
    assert sql == (
        "SELECT termid, term, domain, explanation FROM term ORDER BY term, domain, termid LIMIT $1"
    )
    assert params == [11]


def test_text_matches_term_or_explanation_literally_and_ignoring_case() -> None:
    sql, params = search_query(GlossaryQuery(text="50%_off", limit=5))
    assert "strpos(lower(term), lower($1)) > 0" in sql
    assert "OR strpos(lower(explanation), lower($1)) > 0" in sql
    assert "LIKE" not in sql.upper()  # % and _ mean themselves
    assert params == ["50%_off", 6]


def test_every_filter_together_numbers_its_parameters_in_order() -> None:
    after = Cursor("Kubernetes", "Cloud", TID)
    sql, params = search_query(GlossaryQuery("kube", "Cloud", after, 20))
    assert "domain = $2" in sql
    assert "(term, domain, termid) > ($3, $4, $5)" in sql
    assert sql.index("WHERE") < sql.index("ORDER BY term, domain, termid LIMIT $6")
    assert sql.count(" AND ") == 2
    assert params == ["kube", "Cloud", "Kubernetes", "Cloud", TID, 21]


def row(term: str, domain: str) -> dict[str, object]:
    return {"termid": term_id(term), "term": term, "domain": domain, "explanation": "x"}


def test_a_page_says_where_the_next_one_starts_only_when_there_is_one() -> None:
    rows = [row("a", "A"), row("b", "B"), row("c", "C")]
    full = page_of(rows, 2)
    assert [t["term"] for t in full["terms"]] == ["a", "b"]
    assert full["terms"][0] == {
        "termid": str(term_id("a")),
        "term": "a",
        "domain": "A",
        "explanation": "x",
    }
    assert Cursor.decode(full["next_after"]) == Cursor("b", "B", term_id("b"))
    assert page_of(rows[:2], 2)["next_after"] is None
    assert page_of([], 2) == {"terms": [], "next_after": None}


# --- path parameters and the correction body ------------------------------------------------


def test_termids_are_uuids() -> None:
    assert parse_termid(str(TID)) == TID
    for bad in ["", "xyz", "0d5b7c4e", str(TID) + "0" * 60]:
        assert refused(parse_termid, bad).code == "invalid_termid"


def test_domains_are_trimmed_short_plain_text() -> None:
    assert parse_domain(" CI/CD ") == "CI/CD"
    for bad in ["", "   ", "x" * 65, "a\x00", "a\x7f"]:
        assert refused(parse_domain, bad).code == "invalid_domain"


def test_a_correction_needs_a_plain_explanation_of_at_most_4000_characters() -> None:
    body = GlossaryCorrection.model_validate({"explanation": "  Line one.\nLine two.\t "})
    assert (body.explanation, body.term) == ("Line one.\nLine two.", None)
    for bad in [
        {},
        {"explanation": ""},
        {"explanation": "   "},
        {"explanation": "x" * 4001},
        {"explanation": "a\x00b"},
        {"explanation": "a\x1bb"},
        {"explanation": 5},
        {"explanation": "ok", "term": ""},
        {"explanation": "ok", "term": "two\nlines"},
    ]:
        with pytest.raises(ValidationError):
            GlossaryCorrection.model_validate(bad)


def test_a_term_text_must_give_the_termid_it_is_sent_to() -> None:
    check_term_matches(term_id("Kubernetes"), "  kubernetes ")
    check_term_matches(term_id("Kubernetes"), None)
    error = refused(check_term_matches, term_id("Kubernetes"), "Docker")
    assert (error.status, error.code) == (422, "term_mismatch")
