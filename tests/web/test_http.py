"""What every REST handler shares: pages of seqs."""

from __future__ import annotations

from starlette.requests import Request

from glossify.protocol import ProtocolError
from glossify.web.http import MAX_PAGE, seq_page


def test_a_page_of_seqs_refuses_digits_int_cannot_read() -> None:
    def page(query: str) -> tuple[int, int]:
        scope = {"type": "http", "query_string": query.encode(), "headers": []}
        return seq_page(Request(scope))

    assert page("") == (0, MAX_PAGE)
    assert page("after=7&limit=3") == (7, 3)
    for bad in ["after=%C2%B2", "limit=%C2%B2", "after=-1", "limit=0", "after=x"]:
        try:
            page(bad)
        except ProtocolError as exc:
            assert exc.status == 400, bad
        else:
            raise AssertionError(bad)
