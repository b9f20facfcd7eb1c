"""End to end on LocalStack with the real artefacts, deployed by `terraform apply` of
examples/localstack (tests/localstack/stack.py): the zips `make package` builds as Lambda functions
with Powertools as a layer, fed by the tables' streams through LocalStack's own event source
mappings; the leaderboard behind a function URL; the site from S3 website hosting in Chromium.
memcached is a local one (ElastiCache is not in LocalStack's community edition)."""

from __future__ import annotations

import gzip
import http.client
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from localstack_client.session import Session
from playwright.sync_api import Page, expect, sync_playwright

from tatourney.config import CacheConfig
from tatourney_local.services import LOOPBACK, REPO_ROOT
from tatourney_local.simulator import record_game
from tests.localstack.deployment import EXPOSED_HEADERS, WAIT_SECONDS, Deployment, wait_for
from tests.localstack.stack import TerraformStack

pytestmark = pytest.mark.localstack

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update"]
SCREENSHOTS = REPO_ROOT / "test-output" / "localstack"
SOURCES = {"HIT", "MISS", "STALE"}


@pytest.fixture(scope="module")
def session(localstack_session: Session) -> Session:
    return localstack_session


@pytest.fixture(scope="module")
def deployment(terraform_stack: TerraformStack) -> Deployment:
    return terraform_stack.deployment


def get(url: str, origin: str | None = None) -> tuple[int, dict[str, str], bytes]:
    """GET `url` from LocalStack's gateway on loopback, sending the URL's host name (a function
    URL's or a website's host: <name>.localhost, which only browsers resolve themselves)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(LOOPBACK, parts.port, timeout=30)
    headers = {"Host": parts.netloc, **({"Origin": origin} if origin else {})}
    connection.request(
        "GET", parts.path + (f"?{parts.query}" if parts.query else ""), headers=headers
    )
    response = connection.getresponse()
    body = response.read()
    connection.close()
    answer_headers = {name.lower(): value for name, value in response.getheaders()}
    if answer_headers.get("content-encoding") == "gzip":
        body = gzip.decompress(body)
    return response.status, answer_headers, body


def board(deployment: Deployment) -> tuple[str, dict[str, dict[str, Any]]]:
    """X-Cache and the players by name, from GET /stats through the function URL."""
    status, headers, body = get(deployment.stats_url)
    assert status == 200, body
    assert headers["x-cache"] in SOURCES, headers
    players = json.loads(body)["players"]
    for player in players:
        assert set(player) >= {"rank", "player", "games", "wins", "avg_score", "win_percent"}
    return headers["x-cache"], {player["player"]: player for player in players}


def stats_row(session: Session, deployment: Deployment, player: str) -> dict[str, Any] | None:
    item = session.client("dynamodb").get_item(
        TableName=deployment.tables.stats, Key={"player": {"S": player}}, ConsistentRead=True
    )
    row: dict[str, Any] | None = item.get("Item")
    return row


def log_messages(session: Session, function: str) -> list[str]:
    logs = session.client("logs")
    try:
        events = logs.filter_log_events(logGroupName=f"/aws/lambda/{function}")["events"]
    except logs.exceptions.ResourceNotFoundException:
        return []
    return [event["message"] for event in events]


def test_the_deployed_functions_are_the_packaged_zips_with_the_powertools_layer(
    session: Session, deployment: Deployment, terraform_stack: TerraformStack
) -> None:
    manifest = json.loads((terraform_stack.dist / "manifest.json").read_text())
    lambda_ = session.client("lambda")
    for role, name in deployment.functions.items():
        configuration = lambda_.get_function(FunctionName=name)["Configuration"]
        # Lambda's CodeSha256 is Terraform's source_code_hash of the zip it was given.
        assert configuration["CodeSha256"] == manifest["functions"][role]["source_code_hash"]
        assert [layer["Arn"] for layer in configuration["Layers"]] == [deployment.layer_arn]
        assert configuration["Runtime"] == "python3.12"


def test_the_cache_keys_carry_the_identity_of_the_stats_table_terraform_created(
    session: Session, deployment: Deployment
) -> None:
    stats_table = session.client("dynamodb").describe_table(TableName=deployment.tables.stats)
    stream_arn = stats_table["Table"]["LatestStreamArn"]
    lambda_ = session.client("lambda")
    for role in ("leaderboard", "invalidate"):
        configuration = lambda_.get_function(FunctionName=deployment.functions[role])
        environment = configuration["Configuration"]["Environment"]["Variables"]
        assert environment["STATS_STREAM_ARN"] == stream_arn, role
        # What the function's configuration code makes of it: the stack's name and the stream.
        prefix = CacheConfig.from_env(environment).key_prefix
        assert prefix.startswith(f"{deployment.name}.")


def test_a_game_reaches_the_board_through_aggregate_and_invalidate(
    session: Session, deployment: Deployment
) -> None:
    dynamodb = session.client("dynamodb")
    record_game(dynamodb, deployment.tables.games, 1, {"Mark": 990, "Tia": 120})
    mark = wait_for("Mark's stats row", lambda: stats_row(session, deployment, "Mark"))
    assert (mark["games"]["N"], mark["wins"]["N"], mark["total_score"]["N"]) == ("1", "1", "990")

    # The stats row changed; the board follows once invalidate has processed its stream record.
    _, players = wait_for(
        "Mark on the board",
        lambda: (answer := board(deployment)) and "Mark" in answer[1] and answer,
    )
    assert (players["Mark"]["games"], players["Mark"]["wins"]) == (1, 1)
    assert (players["Tia"]["games"], players["Tia"]["wins"]) == (1, 0)
    # Read again until memcached answers: the board is now cached for CACHE_TTL_SECONDS (300 s).
    wait_for("a cache HIT", lambda: board(deployment)[0] == "HIT")

    record_game(dynamodb, deployment.tables.games, 2, {"Julie": 700, "Mark": 500})
    # Only the invalidate function, fed by the stats stream, can make the cached board change.
    _, players = wait_for(
        "Julie on the board",
        lambda: (answer := board(deployment)) and "Julie" in answer[1] and answer,
    )
    assert (players["Julie"]["games"], players["Julie"]["wins"]) == (1, 1)
    assert (players["Mark"]["games"], players["Mark"]["wins"]) == (2, 1)
    assert any(
        "leaderboard invalidated" in message
        for message in log_messages(session, deployment.functions["invalidate"])
    )
    assert any(
        "game folded" in message
        for message in log_messages(session, deployment.functions["aggregate"])
    )
    given_up = [
        message
        for message in queued_messages(session, deployment.failure_queue_url)
        if message["requestContext"]["condition"] != "RecordRejected"
    ]
    assert given_up == [], "the mappings gave up on records"


def queued_messages(session: Session, queue_url: str) -> list[dict[str, Any]]:
    """The messages waiting in the queue, left there (visible again at once)."""
    answer = session.client("sqs").receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0, WaitTimeSeconds=0
    )
    return [json.loads(message["Body"]) for message in answer.get("Messages", [])]


def test_a_game_out_of_bounds_is_rejected_into_the_failure_queue(
    session: Session, deployment: Deployment
) -> None:
    session.client("dynamodb").put_item(
        TableName=deployment.tables.games,
        Item={
            "player": {"S": "Zoe"},
            "game": {"N": "990001"},
            "score": {"N": "1e30"},
            "winner": {"BOOL": True},
        },
    )

    def rejected() -> list[dict[str, Any]]:
        return [
            message
            for message in queued_messages(session, deployment.failure_queue_url)
            if message["requestContext"]["condition"] == "RecordRejected"
            and message["keys"]["player"] == {"S": "Zoe"}
        ]

    [message] = wait_for("the rejected game in the failure queue", rejected)
    assert message["reason"].startswith("score must be")
    assert message["records"][0]["dynamodb"]["NewImage"]["player"] == {"S": "Zoe"}


def test_the_function_url_lets_the_site_read_the_answer_and_its_headers(
    deployment: Deployment,
) -> None:
    origin = deployment.site_url.rstrip("/")
    status, headers, _ = get(deployment.stats_url, origin=origin)

    assert status == 200
    assert headers["access-control-allow-origin"] in {origin, "*"}
    exposed = {name.strip().lower() for name in headers["access-control-expose-headers"].split(",")}
    assert {name.lower() for name in EXPOSED_HEADERS} <= exposed


@pytest.fixture
def page() -> Iterator[Page]:
    assert CHROMIUM.exists(), "Chromium is missing: run `make install-os`"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        opened = browser.new_context(viewport={"width": 1000, "height": 900}).new_page()
        yield opened
        browser.close()


def test_the_site_from_the_s3_website_shows_the_board_and_a_new_game(
    session: Session, deployment: Deployment, page: Page
) -> None:
    dynamodb = session.client("dynamodb")
    record_game(dynamodb, deployment.tables.games, 3, {"Kelby": 800, "Craig": 50})
    page.goto(deployment.site_url)
    expect(page.locator("body")).to_have_attribute(
        "data-state", "ready", timeout=WAIT_SECONDS * 1000
    )
    expect(page.locator("#source")).to_have_text(re.compile(r"^(HIT|MISS|STALE)$"))

    def row_of(player: str) -> Any:
        cell = page.get_by_role("cell", name=player, exact=True)
        return page.locator("#rows tr").filter(has=cell)

    # The page polls: the game shows once aggregate and invalidate have run, then another.
    expect(row_of("Kelby")).to_have_count(1, timeout=WAIT_SECONDS * 1000)
    record_game(dynamodb, deployment.tables.games, 4, {"Miles": 700, "John": 300})
    expect(row_of("Miles")).to_have_count(1, timeout=WAIT_SECONDS * 1000)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "leaderboard.png", full_page=True)
