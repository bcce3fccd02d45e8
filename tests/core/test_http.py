"""The outgoing HTTP client: what a webhook receiver gets, and what Accord refuses to call."""

import hashlib
import hmac
import json
import shutil
import socket
import ssl
import subprocess
import time
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from pytest_httpserver import HTTPServer
from werkzeug import Response

from accord.core.http import Answer, Failed, Refused, check_url, post_json, sign


@pytest.fixture
def receiver(httpserver, settings):
    """The test server, allowed as an inside receiver ("localhost:PORT")."""
    settings.ACCORD_WEBHOOK_ALLOWED_HOSTS = [f"localhost:{httpserver.port}"]
    return httpserver


@pytest.fixture
def dns(monkeypatch):
    """Names the test makes up, each resolving to the given addresses; other names resolve
    as usual. Returns the map and the names looked up, in order."""
    names: dict[str, list[str]] = {}
    asked: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        asked.append(host)
        if host in names:
            return [
                (
                    socket.AF_INET6 if ":" in a else socket.AF_INET,
                    socket.SOCK_STREAM,
                    6,
                    "",
                    (a, port),
                )
                for a in names[host]
            ]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return names, asked


def test_the_receiver_gets_the_payload_as_json_with_a_signature_it_can_verify(receiver):
    receiver.expect_request("/hook", method="POST").respond_with_data("thanks", status=202)
    payload = {
        "deal": "D-7",
        "amount": Decimal("1250.50"),
        "closes": date(2026, 3, 1),
        "note": "שלום",
    }

    with time_machine.travel(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), tick=False):
        answer = post_json(receiver.url_for("/hook"), payload, secret="s3cret")

    assert answer.status == 202
    assert answer.body == "thanks"
    assert answer.elapsed_ms >= 0
    request, _response = receiver.log[0]
    body = request.get_data()
    assert json.loads(body) == {
        "deal": "D-7",
        "amount": "1250.50",
        "closes": "2026-03-01",
        "note": "שלום",
    }
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"] == "Accord-Webhook/1"
    timestamp = request.headers["X-Accord-Timestamp"]
    assert timestamp == str(int(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC).timestamp()))
    # What the receiver does: recompute the HMAC over "timestamp." + raw body.
    expected = hmac.new(b"s3cret", timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request.headers["X-Accord-Signature"], "sha256=" + expected)
    assert sign("s3cret", timestamp, body) == "sha256=" + expected


def test_without_a_secret_nothing_is_signed_and_the_callers_headers_go_along(receiver):
    receiver.expect_request("/hook").respond_with_data("")

    post_json(receiver.url_for("/hook"), {"a": 1}, headers={"Authorization": "Bearer abc"})

    request, _response = receiver.log[0]
    assert "X-Accord-Signature" not in request.headers
    assert request.headers["Authorization"] == "Bearer abc"


def test_only_the_first_2000_characters_of_the_answer_are_kept(receiver):
    receiver.expect_request("/hook").respond_with_data("x" * 200_000)

    answer = post_json(receiver.url_for("/hook"), {})

    assert answer.body == "x" * 2000


def test_an_answer_that_streams_without_end_is_cut_short(lone_receiver):
    def endless():
        while True:
            yield b"x" * 1024

    lone_receiver.expect_request("/hook").respond_with_response(Response(endless()))

    answer = post_json(lone_receiver.url_for("/hook"), {}, timeout=5)

    assert (answer.status, answer.body) == (200, "x" * 2000)


def test_an_accepted_call_whose_answer_stalls_still_counts_as_delivered(lone_receiver):
    def stalling():
        yield b"accepted"
        time.sleep(3)
        yield b" and more"

    lone_receiver.expect_request("/hook").respond_with_response(Response(stalling()))

    # The body stalls past one timeout (1 s), well within the call's whole limit (3 s):
    # margins a busy machine cannot eat.
    answer = post_json(lone_receiver.url_for("/hook"), {}, timeout=1)

    assert (answer.status, answer.body) == (200, "accepted")


def test_a_server_error_is_retried_and_a_bad_request_is_not(receiver):
    receiver.expect_request("/down").respond_with_data("oops", status=500)
    receiver.expect_request("/bad").respond_with_data("no field 'x'", status=400)
    receiver.expect_request("/busy").respond_with_data("", status=429)

    with pytest.raises(Failed) as down:
        post_json(receiver.url_for("/down"), {})
    with pytest.raises(Failed) as bad:
        post_json(receiver.url_for("/bad"), {})
    with pytest.raises(Failed) as busy:
        post_json(receiver.url_for("/busy"), {})

    assert (down.value.retry, down.value.status) == (True, 500)
    assert str(down.value) == "localhost answered 500 Internal Server Error."
    assert (bad.value.retry, bad.value.status, bad.value.body) == (False, 400, "no field 'x'")
    assert (busy.value.retry, busy.value.status) == (True, 429)


@pytest.fixture
def lone_receiver(settings):
    """A server of its own for a test that leaves it busy answering after the test."""
    server = HTTPServer(host="localhost", port=0)
    server.start()
    settings.ACCORD_WEBHOOK_ALLOWED_HOSTS = ["localhost"]
    yield server
    server.stop()


def test_a_receiver_that_does_not_answer_in_time_is_retried(lone_receiver):
    def slow(request):
        time.sleep(0.6)
        return Response("late")

    lone_receiver.expect_request("/slow").respond_with_handler(slow)

    with pytest.raises(Failed) as failed:
        post_json(lone_receiver.url_for("/slow"), {}, timeout=0.2)

    assert failed.value.retry is True
    assert failed.value.status is None
    assert "did not answer within 0.2 seconds" in str(failed.value)


def test_a_receiver_trickling_its_answer_is_given_up_on_in_a_few_timeouts(settings):
    import socket
    import threading

    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    settings.ACCORD_WEBHOOK_ALLOWED_HOSTS = [f"127.0.0.1:{port}"]
    done = threading.Event()

    def trickle():  # a byte of its headers every 0.1 s: no single read ever times out
        connection, _address = server.accept()
        connection.recv(65536)
        for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 100:
            if done.is_set():
                break
            connection.send(bytes([byte]))
            time.sleep(0.1)
        connection.close()

    threading.Thread(target=trickle, daemon=True).start()
    began = time.monotonic()
    with pytest.raises(Failed) as failed:
        post_json(f"http://127.0.0.1:{port}/hook", {}, timeout=0.3)
    took = time.monotonic() - began
    done.set()
    server.close()
    assert failed.value.retry is True and "did not answer" in str(failed.value)
    assert took < 5  # not the 10 s the trickle lasts


def test_nothing_listening_is_a_network_error_retried_later(settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # free now, and nobody listens on it
    settings.ACCORD_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]

    with pytest.raises(Failed) as failed:
        post_json(f"http://127.0.0.1:{port}/hook", {})

    assert failed.value.retry is True


@pytest.mark.parametrize(
    "address",
    [
        "http://127.0.0.1:{port}/hook",
        "http://localhost:{port}/hook",
        "http://LocalHost:{port}/hook",
        "http://[::1]:{port}/hook",
        "http://[::ffff:127.0.0.1]:{port}/hook",
        "http://2130706433:{port}/hook",
        "http://0.0.0.0:{port}/hook",
        "http://10.0.0.8:{port}/hook",
        "http://192.168.1.20:{port}/hook",
        "http://169.254.169.254/latest/meta-data/",
    ],
)
def test_inside_addresses_are_refused_and_nothing_is_sent(httpserver, settings, address):
    settings.ACCORD_WEBHOOK_ALLOWED_HOSTS = []
    httpserver.expect_request("/hook").respond_with_data("should not be called")

    with pytest.raises(Refused, match="private or local address"):
        post_json(address.format(port=httpserver.port), {"secret": "data"})

    assert httpserver.log == []


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("ftp://localhost/hook", "must start with http:// or https://"),
        ("file:///etc/passwd", "must start with http:// or https://"),
        ("gopher://localhost:25/", "must start with http:// or https://"),
        ("http:///hook", "has no host name"),
        ("not a url", "must not contain spaces"),
    ],
)
def test_addresses_that_are_not_web_addresses_are_refused(httpserver, address, message):
    with pytest.raises(Refused, match=message):
        post_json(address, {})

    assert httpserver.log == []


def test_an_allowed_host_is_allowed_on_its_port_only(receiver, settings):
    receiver.expect_request("/hook").respond_with_data("ok")
    settings.ACCORD_WEBHOOK_ALLOWED_HOSTS = [f"LOCALHOST:{receiver.port + 1}"]

    with pytest.raises(Refused):
        post_json(receiver.url_for("/hook"), {})
    settings.ACCORD_WEBHOOK_ALLOWED_HOSTS = ["localhost"]  # any port
    assert post_json(receiver.url_for("/hook"), {}).body == "ok"


def test_a_name_with_any_inside_address_is_refused(httpserver, settings, dns):
    names, _asked = dns
    names["hooks.example.com"] = ["93.184.215.14", "10.0.0.7"]
    names["metadata.example.com"] = ["fd00:ec2::254"]
    settings.ACCORD_WEBHOOK_ALLOWED_HOSTS = []

    with pytest.raises(Refused, match=r"hooks.example.com leads to .* \(10.0.0.7\)"):
        post_json("https://hooks.example.com/hook", {})
    with pytest.raises(Refused, match="fd00:ec2::254"):
        post_json("https://metadata.example.com/hook", {})


def test_the_call_goes_to_the_address_checked_and_names_the_host(receiver, settings, dns):
    # The name is looked up once and the connection made to that address, so a DNS answer
    # that changes between the check and the connection (rebinding) is never used.
    names, asked = dns
    names["receiver.test"] = ["127.0.0.1"]
    settings.ACCORD_WEBHOOK_ALLOWED_HOSTS = ["receiver.test"]
    receiver.expect_request("/hook").respond_with_data("ok")

    post_json(f"http://receiver.test:{receiver.port}/hook", {})

    request, _response = receiver.log[0]
    assert request.headers["Host"] == f"receiver.test:{receiver.port}"
    assert asked.count("receiver.test") == 1


def test_a_redirect_to_an_inside_address_is_refused(receiver):
    inside = f"http://127.0.0.1:{receiver.port}/inside"
    receiver.expect_request("/hook").respond_with_data("", status=307, headers={"Location": inside})
    receiver.expect_request("/inside").respond_with_data("should not be called")

    with pytest.raises(Refused, match=r"127\.0\.0\.1 is a private or local address"):
        post_json(receiver.url_for("/hook"), {})

    assert [request.path for request, _response in receiver.log] == ["/hook"]


def test_a_307_or_308_is_followed_with_the_same_signed_post(receiver):
    receiver.expect_request("/old").respond_with_data("", status=308, headers={"Location": "/mid"})
    receiver.expect_request("/mid").respond_with_data("", status=307, headers={"Location": "/new"})
    receiver.expect_request("/new", method="POST").respond_with_data("moved fine")

    answer = post_json(receiver.url_for("/old"), {"a": 1}, secret="k")

    assert answer == Answer(status=200, body="moved fine", elapsed_ms=answer.elapsed_ms)
    first, last = receiver.log[0][0], receiver.log[-1][0]
    assert last.method == "POST"
    assert last.get_data() == first.get_data() == b'{"a": 1}'
    assert last.headers["X-Accord-Signature"] == first.headers["X-Accord-Signature"]


def test_a_301_302_or_303_is_not_followed_and_names_the_new_address(receiver):
    receiver.expect_request("/old").respond_with_data("", status=301, headers={"Location": "/new"})

    with pytest.raises(Failed) as failed:
        post_json(receiver.url_for("/old"), {})

    assert (failed.value.retry, failed.value.status) == (False, 301)
    assert receiver.url_for("/new") in str(failed.value)
    assert [request.path for request, _response in receiver.log] == ["/old"]


def test_endless_redirects_stop_after_five(receiver):
    receiver.expect_request("/loop").respond_with_data(
        "", status=307, headers={"Location": "/loop"}
    )

    with pytest.raises(Failed, match="more than 5 times") as failed:
        post_json(receiver.url_for("/loop"), {})

    assert failed.value.retry is False
    assert len(receiver.log) == 6


@pytest.fixture
def tls_receiver(tmp_path, monkeypatch, settings):
    """An https server with a certificate for "localhost" only (no IP address in it), its
    certificate trusted through SSL_CERT_FILE."""
    if not shutil.which("openssl"):
        pytest.fail("the openssl command is needed to make a certificate (apt-get install openssl)")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", key, "-out", cert, "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost"],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=context)
    server.start()
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    settings.ACCORD_WEBHOOK_ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
    yield server
    server.stop()


def test_https_checks_the_certificate_against_the_name_not_the_address(tls_receiver):
    tls_receiver.expect_request("/hook").respond_with_data("secure")

    answer = post_json(f"https://localhost:{tls_receiver.port}/hook", {"a": 1})
    assert answer.body == "secure"
    # The same server by address: its certificate does not name 127.0.0.1.
    with pytest.raises(Failed, match="CERTIFICATE_VERIFY_FAILED") as failed:
        post_json(f"https://127.0.0.1:{tls_receiver.port}/hook", {"a": 1})
    assert failed.value.retry is True


def test_check_url_says_what_is_wrong_with_a_typed_address(settings):
    settings.ACCORD_WEBHOOK_ALLOWED_HOSTS = ["hooks.lan"]

    assert check_url("https://hooks.example.com/accord?token=abc") == []
    assert check_url("http://hooks.lan:8080/in") == []
    assert check_url("") == ["Enter an address."]
    assert check_url("hooks.example.com/accord") == [
        "The address must start with http:// or https://."
    ]
    assert check_url("https://hooks.example.com/" + "a" * 2000) == [
        "The address is longer than 2,000 characters."
    ]
    assert check_url("https://hooks example.com/") == ["The address must not contain spaces."]
    assert check_url("https://-hooks-.example.com/") == [
        "The host name “-hooks-.example.com” is not valid."
    ]
    assert check_url("https://hooks.example.com:0/") == [
        "The port must be a number from 1 to 65535."
    ]
    assert check_url("http://169.254.169.254/latest") == [
        "169.254.169.254 is a private or local address, which webhooks may not call; an "
        "administrator can allow it in ACCORD_WEBHOOK_ALLOWED_HOSTS."
    ]
    assert check_url("http://localhost:8000/")[0].startswith("localhost leads to a private")
