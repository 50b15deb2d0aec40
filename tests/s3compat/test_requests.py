"""Requests as clients send them on the wire: Expect: 100-continue (s3-tests test_100_continue), and user
metadata that is not ASCII (RFC 2047 encoded words, as S3 takes and gives them, or raw UTF-8)."""
import base64
import http.client
import os
import socket
import unittest
from urllib.parse import urlparse

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from common import ENDPOINTS, client, new_bucket


def first_status(method, url, headers):
    """Sends a request's head only (no body yet) and returns the status of the first answer line."""
    parts = urlparse(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        head = [f"{method} {parts.path} HTTP/1.1", f"Host: {parts.netloc}"] + [f"{k}: {v}" for k, v in headers.items()]
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        return sock.makefile("rb").readline().decode().split()[1]


class ExpectContinue(unittest.TestCase):
    def test_a_refused_put_is_answered_before_its_body_and_an_allowed_one_is_told_to_send_it(self):
        s3 = client(0)
        bucket = new_bucket(s3)
        url = f"{ENDPOINTS[0]}/{bucket}/waiting"
        # Anonymous, with keys on: 403 at once, not "100 Continue" and then a wait for a body it will refuse.
        self.assertEqual(first_status("PUT", url, {"Expect": "100-continue", "Content-Length": "8"}), "403")
        request = AWSRequest(method="PUT", url=url, headers={"Expect": "100-continue", "Content-Length": "8"})
        S3SigV4Auth(Credentials(os.environ["O3_ACCESS_KEY"], os.environ["O3_SECRET_KEY"]), "s3", "us-east-1").add_auth(request)
        self.assertEqual(first_status("PUT", url, dict(request.headers.items())), "100")
        # A large upload through boto3 (which sends Expect: 100-continue for it) lands whole.
        body = os.urandom(3 << 20)
        s3.put_object(Bucket=bucket, Key="large", Body=body)
        self.assertEqual(client(1).get_object(Bucket=bucket, Key="large")["Body"].read(), body)


def signed_put(url, headers, body):
    """A PUT signed by botocore but sent by http.client with header values as UTF-8 bytes (boto3 refuses non-ASCII metadata)."""
    request = AWSRequest(method="PUT", url=url, data=body, headers={**headers, "Content-Length": str(len(body))})
    S3SigV4Auth(Credentials(os.environ["O3_ACCESS_KEY"], os.environ["O3_SECRET_KEY"]), "s3", "us-east-1").add_auth(request)
    parts = urlparse(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.putrequest("PUT", parts.path)
        for name, value in request.headers.items():
            connection.putheader(name, value.encode() if isinstance(value, str) else value)
        connection.endheaders(body)
        return connection.getresponse().status
    finally:
        connection.close()


class Metadata(unittest.TestCase):
    def test_text_that_is_not_ascii_is_kept_and_comes_back_as_encoded_words(self):
        s3 = client(0)
        bucket = new_bucket(s3)
        text = "日本語 café"
        word = "=?UTF-8?B?" + base64.b64encode(text.encode()).decode() + "?="
        # Sent as an encoded word (what a client that knows S3 does): stored as the text, given back encoded.
        s3.put_object(Bucket=bucket, Key="word", Body=b"x", Metadata={"title": word, "plain": "ascii stays"})
        head = client(1).head_object(Bucket=bucket, Key="word")
        self.assertEqual(head["Metadata"], {"title": word, "plain": "ascii stays"})
        # Q-encoded in ISO-8859-1: the same text, given back in UTF-8's B form.
        s3.put_object(Bucket=bucket, Key="latin", Body=b"x", Metadata={"title": "=?ISO-8859-1?Q?caf=E9?="})
        self.assertEqual(client(2).head_object(Bucket=bucket, Key="latin")["Metadata"]["title"], "=?UTF-8?B?" + base64.b64encode("café".encode()).decode() + "?=")
        # Sent raw as UTF-8: kept, and the object stays readable (its GET answered 503 when the header could not be sent).
        self.assertEqual(signed_put(f"{ENDPOINTS[0]}/{bucket}/raw", {"x-amz-meta-title": text}, b"x"), 200)
        got = client(1).get_object(Bucket=bucket, Key="raw")
        self.assertEqual((got["Body"].read(), got["Metadata"]["title"]), (b"x", word))


if __name__ == "__main__":
    unittest.main()
