"""GET /stats over HTTP: the query's validation, paging, ETag/304 and gzip, and a clean answer to
every event the function can receive — the handler itself, against memcached and DynamoDB Local."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tatourney.responses import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    MAX_OFFSET,
    BadRequest,
    Page,
    accepts_gzip,
    none_match,
    parse_page,
)
from tatourney_local.tables import TableNames
from tests.core.boards import (
    TEN_PLAYERS,
    changes,
    invalidator,
    many_players,
    put_many,
)
from tests.core.handler_io import CONTEXT, decoded_body
from tests.support import LocalAws, http_event, load_handler

CLEAN_STATUSES = {200, 304, 400, 405}

# Any Unicode, lone surrogates included: API Gateway's JSON may carry "\ud800" escapes.
any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=40)
long_text = st.text(st.characters(codec=None, exclude_categories=()), min_size=1000, max_size=9000)
digits = st.text("0123456789", min_size=1, max_size=6000)
# Digit strings about Python's integer-conversion limit (4,300 digits): int() must never see one.
huge_digits = st.integers(4000, 6000).map(lambda n: "7" * n)
values = st.one_of(
    any_text, long_text, digits, huge_digits, st.sampled_from(["1", "10", "0", "1,2", "\u00b2"])
)


# The query --------------------------------------------------------------------------------------


def test_defaults_are_the_first_page_of_a_hundred() -> None:
    assert parse_page({}) == Page(offset=0, limit=DEFAULT_LIMIT)
    assert parse_page({"limit": "3", "offset": "20"}) == Page(offset=20, limit=3)
    assert parse_page({"limit": str(MAX_LIMIT), "offset": str(MAX_OFFSET)}).limit == MAX_LIMIT


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": str(MAX_LIMIT + 1)}, "limit"),
        ({"limit": "abc"}, "limit"),
        ({"limit": "-1"}, "limit"),
        ({"limit": ""}, "limit"),
        ({"limit": " 5"}, "limit"),
        ({"limit": "2.5"}, "limit"),
        ({"limit": "1,2"}, "limit"),  # ?limit=1&limit=2, as API Gateway joins it
        ({"limit": "\u00b2"}, "limit"),  # superscript two: str.isdigit() says yes
        ({"limit": "\u0665"}, "limit"),  # Arabic-Indic five
        ({"limit": "\U0001d7d3"}, "limit"),  # mathematical bold five
        ({"limit": "9" * 5000}, "limit"),  # more digits than int() converts
        ({"offset": "1" * 8}, "offset"),
        ({"page": "2"}, "page"),
        ({"limit": "5", "Limit": "5"}, "Limit"),
    ],
)
def test_malformed_queries_are_refused_naming_the_parameter(
    query: dict[str, str], names: str
) -> None:
    with pytest.raises(BadRequest, match=names) as refused:
        parse_page(query)
    assert len(str(refused.value)) < 300, "the message quotes at most a short excerpt"


@given(st.dictionaries(st.sampled_from(["limit", "offset"]) | any_text, values, max_size=4))
def test_any_query_is_a_page_or_a_bad_request(query: dict[str, str]) -> None:
    try:
        page = parse_page(query)
    except BadRequest as error:
        message = str(error)
    else:
        message = ""
    if message:
        assert message.isascii()
        assert len(message) < 400
        return
    assert 0 <= page.offset <= MAX_OFFSET
    assert 1 <= page.limit <= MAX_LIMIT
    for name, value in query.items():
        assert value.isascii()
        assert value.isdigit()
        assert name in ("limit", "offset")


# Content negotiation and validators -------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept_encoding", "gzip_allowed"),
    [
        (None, False),
        ("", False),
        ("gzip", True),
        ("gzip, deflate, br, zstd", True),
        ("GZIP", True),
        ("x-gzip", True),
        ("br;q=1.0, gzip;q=0.8", True),
        ("gzip;q=0", False),
        ("gzip;q=0.000", False),
        ("*", True),
        ("*;q=0", False),
        ("*, gzip;q=0", False),
        ("identity", False),
        ("gzip;q=banana", False),
        ("gzip;q=2", False),
    ],
)
def test_gzip_only_where_accept_encoding_allows_it(
    accept_encoding: str | None, gzip_allowed: bool
) -> None:
    assert accepts_gzip(accept_encoding) is gzip_allowed


@given(any_text | long_text)
def test_any_accept_encoding_is_an_answer(accept_encoding: str) -> None:
    assert isinstance(accepts_gzip(accept_encoding), bool)


@pytest.mark.parametrize(
    ("if_none_match", "matches"),
    [
        ('W/"abc-0-100"', True),
        ('"abc-0-100"', True),  # weak comparison: W/ does not matter
        ('"x", W/"abc-0-100"', True),
        ("*", True),
        ('W/"abc-0-10"', False),
        ("abc-0-100", False),  # not an entity tag: unquoted
        ("", False),
        (None, False),
    ],
)
def test_if_none_match_uses_weak_comparison(if_none_match: str | None, matches: bool) -> None:
    assert none_match(if_none_match, 'W/"abc-0-100"') is matches


# Through the handler ---------------------------------------------------------------------------


@pytest.fixture
def leaderboard(lambda_env: dict[str, str], aws: LocalAws, tables: TableNames) -> Any:
    put_many(aws, tables.stats, many_players(250))
    aws.put_stats(tables.stats, TEN_PLAYERS)
    return load_handler("leaderboard")


def get(leaderboard: Any, query: dict[str, str] | None = None, **headers: str) -> dict[str, Any]:
    event = http_event(query=query)
    event["headers"].update({name.replace("_", "-"): value for name, value in headers.items()})
    response: dict[str, Any] = leaderboard.handler(event, CONTEXT)
    return response


def test_an_unchanged_board_is_a_304_with_no_body_until_it_changes(
    leaderboard: Any, aws: LocalAws, tables: TableNames, memcached: Any, key_prefix: str
) -> None:
    first = get(leaderboard)
    etag = first["headers"]["ETag"]
    assert first["statusCode"] == 200
    assert first["headers"]["Cache-Control"] == "public, max-age=0, s-maxage=5"

    unchanged = get(leaderboard, if_none_match=etag)
    assert unchanged["statusCode"] == 304
    assert unchanged["body"] == ""
    assert unchanged["headers"]["ETag"] == etag
    # The revalidation says the same as the page about who may keep it, and for how long.
    assert unchanged["headers"]["Cache-Control"] == first["headers"]["Cache-Control"]
    assert "Content-Type" not in unchanged["headers"]

    other_page = get(leaderboard, {"offset": "100"}, if_none_match=etag)
    assert other_page["statusCode"] == 200, "another page has another tag"

    aws.put_stats(tables.stats, [("Tia", 11, 8, 5500)])
    invalidator(memcached, key_prefix).invalidate(changes(aws, tables.stats, ["Tia"]))
    changed = get(leaderboard, if_none_match=etag)
    assert changed["statusCode"] == 200
    assert changed["headers"]["ETag"] != etag
    tia = next(p for p in json.loads(decoded_body(changed))["players"] if p["player"] == "Tia")
    assert tia["games"] == 11


def test_errors_are_never_stored_by_a_shared_cache(leaderboard: Any) -> None:
    # A CDN in front of /stats keeps boards for a few seconds; a 400 must not take a page's place.
    refused = get(leaderboard, {"limt": "5"})
    assert refused["statusCode"] == 400
    assert refused["headers"]["Cache-Control"] == "no-store"
    board = get(leaderboard)
    assert "no-store" not in board["headers"]["Cache-Control"]
    assert "public" in board["headers"]["Cache-Control"]


def test_a_rebuild_that_changed_nothing_keeps_the_tag(
    leaderboard: Any, memcached: Any, key_prefix: str
) -> None:
    etag = get(leaderboard)["headers"]["ETag"]
    # a change that shows nothing new
    invalidator(memcached, key_prefix).invalidate({"Tia": (10, 7, 5000)})
    again = get(leaderboard, if_none_match=etag)
    assert again["statusCode"] == 304
    assert again["headers"]["X-Cache"] == "MISS", "rebuilt, and still the same board"


def test_gzip_when_accepted_is_the_same_body_compressed(leaderboard: Any) -> None:
    plain = get(leaderboard, accept_encoding="identity")
    compressed = get(leaderboard, accept_encoding="gzip, deflate, br")
    assert plain["isBase64Encoded"] is False
    assert "Content-Encoding" not in plain["headers"]
    assert compressed["isBase64Encoded"] is True
    assert compressed["headers"]["Content-Encoding"] == "gzip"
    assert compressed["headers"]["Vary"] == "Accept-Encoding"
    assert decoded_body(compressed) == plain["body"].encode()
    assert len(base64.b64decode(compressed["body"])) < len(plain["body"]) // 3
    refused = get(leaderboard, accept_encoding="gzip;q=0, identity")
    assert refused["isBase64Encoded"] is False

    tiny = get(leaderboard, {"limit": "1"}, accept_encoding="gzip")
    assert "Content-Encoding" not in tiny["headers"], "below 1 KB it is not worth it"


def test_paging_walks_the_whole_board_once(leaderboard: Any) -> None:
    whole = json.loads(decoded_body(get(leaderboard, {"limit": "1000"})))
    assert whole["total"] == 260
    walked: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = json.loads(decoded_body(get(leaderboard, {"limit": "37", "offset": str(offset)})))
        assert (page["offset"], page["limit"], page["total"]) == (offset, 37, 260)
        if not page["players"]:
            break
        walked.extend(page["players"])
        offset += 37
    assert walked == whole["players"]
    assert [p["rank"] for p in walked] == list(range(1, 261))
    assert len(json.loads(decoded_body(get(leaderboard)))["players"]) == DEFAULT_LIMIT


events_with_missing_parts = st.fixed_dictionaries(
    {
        "version": st.just("2.0"),
        "routeKey": st.just("GET /stats"),
        "rawPath": st.just("/stats"),
        "requestContext": st.fixed_dictionaries(
            {
                "http": st.fixed_dictionaries(
                    {
                        "method": st.sampled_from(["GET", "POST", "HEAD", "OPTIONS", "PUT"])
                        | any_text,
                        "path": st.just("/stats"),
                    }
                )
            }
        ),
    },
    optional={
        "rawQueryString": any_text,
        "queryStringParameters": st.dictionaries(
            st.sampled_from(["limit", "offset"]) | any_text | long_text, values, max_size=4
        ),
        "headers": st.dictionaries(
            st.sampled_from(["accept-encoding", "if-none-match", "host"]) | any_text,
            st.sampled_from(["gzip", "*", 'W/"x"', "gzip;q=0"]) | any_text | long_text,
            max_size=4,
        ),
        "cookies": st.lists(any_text, max_size=3),
        "body": any_text,
        "isBase64Encoded": st.booleans(),
    },
)
malformed_events = st.one_of(
    st.none(),
    st.integers(),
    any_text,
    st.lists(any_text, max_size=3),
    st.dictionaries(any_text, any_text, max_size=3),
    st.just({"requestContext": {}}),
    st.just({"requestContext": {"http": None}}),
    st.just({"requestContext": {"http": {"method": 5}}}),
    st.just({"requestContext": {"http": {"method": "GET"}}, "queryStringParameters": ["limit"]}),
    st.just({"requestContext": {"http": {"method": "GET"}}, "headers": {"a": None}}),
)


@pytest.mark.usefixtures("lambda_env")
def test_every_event_gets_a_clean_answer(aws: LocalAws, tables: TableNames) -> None:
    aws.put_stats(tables.stats, TEN_PLAYERS)
    leaderboard = load_handler("leaderboard")

    @settings(
        max_examples=300,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(events_with_missing_parts | malformed_events)
    def check(event: Any) -> None:
        response = leaderboard.handler(event, CONTEXT)
        assert response["statusCode"] in CLEAN_STATUSES, response
        if response["statusCode"] == 304:
            assert response["body"] == ""
            return
        payload = json.loads(decoded_body(response))
        if response["statusCode"] == 200:
            assert [p["player"] for p in payload["players"]][:1] == ["Tia"] or payload["offset"]
        else:
            assert payload["error"].isascii()

    check()
