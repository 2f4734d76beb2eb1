"""The OCI distribution (registry v2) HTTP API, just what promote and immutability need:
resolve a tag to a digest, read and write manifests, mount blobs across repositories.
Handles Basic and Bearer-token auth as the registry asks for it (WWW-Authenticate)."""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import os
import re
import ssl
from dataclasses import dataclass
from typing import Any

import httpx

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
INDEXES = (OCI_INDEX, DOCKER_LIST)
ACCEPT = ", ".join((OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST))
API_HOSTS = {"docker.io": "registry-1.docker.io"}


class RegistryError(Exception):
    """The registry could not be reached or refused; the message says which and why."""


@dataclass(frozen=True)
class Manifest:
    media_type: str
    digest: str
    body: bytes

    @property
    def document(self) -> dict[str, Any]:
        return json.loads(self.body)

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEXES

    def children(self) -> list[dict[str, Any]]:
        return self.document.get("manifests", []) if self.is_index else []

    def blobs(self) -> list[str]:
        """Digests of the config and layers an image manifest refers to."""
        if self.is_index:
            return []
        doc = self.document
        return [doc["config"]["digest"]] + [layer["digest"] for layer in doc.get("layers", [])]

    @property
    def config_digest(self) -> str | None:
        return None if self.is_index else self.document.get("config", {}).get("digest")


def _loopback(host: str) -> bool:
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 or host.startswith("[") else host
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False


def _challenge(header: str) -> tuple[str, dict[str, str]]:
    scheme, _, rest = header.partition(" ")
    return scheme.lower(), dict(re.findall(r'(\w+)="([^"]*)"', rest))


def trust_for(host: str, certs_dir: str = "/etc/docker/certs.d") -> ssl.SSLContext:
    """System CAs plus the CA Docker itself trusts for this registry (certs.d/<host>/ca.crt),
    so the API and the engine agree on which registries are trusted."""
    context = ssl.create_default_context(cafile=os.environ.get("SSL_CERT_FILE") or None)
    folder = os.path.join(certs_dir, host)
    if os.path.isdir(folder):
        for name in sorted(os.listdir(folder)):
            if name.endswith(".crt"):
                context.load_verify_locations(os.path.join(folder, name))
    return context


class Registry:
    def __init__(
        self,
        host: str,
        *,
        username: str = "",
        password: str = "",
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ):
        self.host = host
        self.api_host = API_HOSTS.get(host, host)
        self._basic = (username, password) if username or password else None
        self._token: dict[str, str] = {}  # scope -> bearer token
        self._basic_header: dict[str, str] = {}  # set once the registry asked for Basic
        self._scheme: str | None = "https" if transport else None
        self.bytes_sent = 0
        self.requests = 0
        options: dict[str, Any] = {"timeout": timeout, "follow_redirects": True}
        if transport is not None:
            options["transport"] = transport
        else:
            options["verify"] = trust_for(host)
        self._http = httpx.Client(**options)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transport and auth -------------------------------------------------------
    def _base(self) -> str:
        if self._scheme is None:
            self._scheme = "https"
            try:
                self._http.get(f"https://{self.api_host}/v2/")
            except (httpx.ConnectError, httpx.RemoteProtocolError) as exc:
                # Like Docker: a loopback registry may speak plain HTTP.
                if not _loopback(self.api_host):
                    raise RegistryError(f"cannot reach registry {self.host} over HTTPS: {exc}") from None
                self._scheme = "http"
        return f"{self._scheme}://{self.api_host}"

    def _authorise(self, response: httpx.Response, scope: str) -> dict[str, str]:
        scheme, params = _challenge(response.headers.get("WWW-Authenticate", ""))
        if scheme == "basic":
            if not self._basic:
                raise RegistryError(f"registry {self.host} needs credentials: set username and password")
            user_pass = base64.b64encode(f"{self._basic[0]}:{self._basic[1]}".encode()).decode()
            self._basic_header = {"Authorization": f"Basic {user_pass}"}
            return self._basic_header
        if scheme == "bearer" and params.get("realm"):
            query = {"service": params.get("service", ""), "scope": scope}
            answer = self._http.get(
                params["realm"],
                params={k: v for k, v in query.items() if v},
                auth=httpx.BasicAuth(*self._basic) if self._basic else None,
            )
            if answer.status_code in (401, 403):
                raise RegistryError(
                    f"registry {self.host} refused the credentials (token service answered {answer.status_code})"
                )
            answer.raise_for_status()
            body = answer.json()
            self._token[scope] = body.get("token") or body.get("access_token") or ""
            return {"Authorization": f"Bearer {self._token[scope]}"}
        raise RegistryError(f"registry {self.host} asked for an unsupported authentication: {scheme or 'none'}")

    def request(
        self, method: str, path: str, *, scope: str, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> httpx.Response:
        base = self._base()
        url = path if path.startswith("http") else base + path
        sent = dict(headers or {})
        # Credentials go to the registry's own origin only: an upload Location may point at
        # another host (storage, a CDN) or at plain HTTP.
        own = httpx.URL(url).copy_with(path="/", query=None) == httpx.URL(base + "/")
        if own and scope in self._token:
            sent["Authorization"] = f"Bearer {self._token[scope]}"
        elif own:
            sent.update(self._basic_header)
        try:
            response = self._send(method, url, sent, kwargs)
            if response.status_code == 401 and own:
                sent.update(self._authorise(response, scope))
                response = self._send(method, url, sent, kwargs)
                if response.status_code == 401:
                    raise RegistryError(f"registry {self.host} refused the credentials (HTTP 401)")
        except httpx.TransportError as exc:
            raise RegistryError(f"registry {self.host} did not answer: {type(exc).__name__}: {exc}") from None
        if response.status_code == 403:
            raise RegistryError(
                f"registry {self.host} denied {method} {path.split('?')[0]} (HTTP 403): "
                "the credentials lack permission (GitHub: `permissions: packages: write`)"
            )
        return response

    def _send(self, method: str, url: str, headers: dict[str, str], kwargs: dict[str, Any]) -> httpx.Response:
        self.requests += 1
        content = kwargs.get("content")
        if isinstance(content, bytes):
            self.bytes_sent += len(content)
        return self._http.request(method, url, headers=headers, **kwargs)

    def ping(self) -> None:
        response = self.request("GET", "/v2/", scope="")
        if response.status_code >= 400:
            raise RegistryError(f"registry {self.host} answered HTTP {response.status_code} on /v2/")

    # -- manifests ---------------------------------------------------------------------
    def manifest(self, repository: str, reference: str) -> Manifest | None:
        response = self.request(
            "GET",
            f"/v2/{repository}/manifests/{reference}",
            scope=f"repository:{repository}:pull",
            headers={"Accept": ACCEPT},
        )
        if response.status_code == 404:
            return None
        _raise_for(response, f"reading manifest {repository}:{reference}")
        body = response.content
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        media_type = response.headers.get("Content-Type", "").split(";")[0] or json.loads(body).get("mediaType", "")
        return Manifest(media_type, digest, body)

    def config(self, repository: str, manifest: Manifest) -> dict[str, Any]:
        """An image's config (its labels, its creation time): the first platform's for an index."""
        if manifest.is_index:
            children = manifest.children()
            child = self.manifest(repository, children[0]["digest"]) if children else None
            if child is None:
                return {}
            manifest = child
        digest = manifest.config_digest
        if not digest:
            return {}
        response = self.request("GET", f"/v2/{repository}/blobs/{digest}", scope=f"repository:{repository}:pull")
        _raise_for(response, f"reading the config of {repository}@{manifest.digest}")
        try:
            document = json.loads(response.content)
        except ValueError:
            return {}
        return document if isinstance(document, dict) else {}

    def digest(self, repository: str, reference: str) -> str | None:
        response = self.request(
            "HEAD",
            f"/v2/{repository}/manifests/{reference}",
            scope=f"repository:{repository}:pull",
            headers={"Accept": ACCEPT},
        )
        if response.status_code == 404:
            return None
        _raise_for(response, f"resolving {repository}:{reference}")
        return response.headers.get("Docker-Content-Digest")

    def tags(self, repository: str, *, limit: int = 10_000) -> list[str]:
        """The repository's tags, following the `Link` pages; [] for a repository not yet pushed."""
        found: list[str] = []
        path: str | None = f"/v2/{repository}/tags/list?n=1000"
        while path and len(found) < limit:
            response = self.request("GET", path, scope=f"repository:{repository}:pull")
            if response.status_code == 404:
                return found
            _raise_for(response, f"listing the tags of {repository}")
            try:
                found.extend(str(tag) for tag in response.json().get("tags") or [])
            except (ValueError, AttributeError):
                raise RegistryError(f"listing the tags of {repository}: the registry answered no JSON") from None
            following = response.links.get("next", {}).get("url")
            path = following if following and following.startswith("/v2/") else None
        return found

    def put_manifest(self, repository: str, reference: str, manifest: Manifest) -> str:
        response = self.request(
            "PUT",
            f"/v2/{repository}/manifests/{reference}",
            scope=f"repository:{repository}:pull,push",
            headers={"Content-Type": manifest.media_type},
            content=manifest.body,
        )
        _raise_for(response, f"writing manifest {repository}:{reference}")
        return response.headers.get("Docker-Content-Digest", manifest.digest)

    # -- blobs ---------------------------------------------------------------------------
    def has_blob(self, repository: str, digest: str) -> bool:
        response = self.request("HEAD", f"/v2/{repository}/blobs/{digest}", scope=f"repository:{repository}:pull")
        return response.status_code == 200

    def mount_blob(self, repository: str, digest: str, source: str) -> bool:
        """Cross-repository mount: the registry links the blob, no bytes move. False when
        it declined (it then opened an upload, which is cancelled here)."""
        scope = f"repository:{repository}:pull,push repository:{source}:pull"
        response = self.request("POST", f"/v2/{repository}/blobs/uploads/?mount={digest}&from={source}", scope=scope)
        if response.status_code == 201:
            return True
        _raise_for(response, f"mounting {digest[:19]} into {repository}")
        location = response.headers.get("Location")
        if location:
            self.request("DELETE", self._absolute(location), scope=scope)
        return False

    def copy_blob(self, repository: str, digest: str, source: str) -> int:
        """Fallback when a mount is declined: download and upload (monolithic). Returns bytes."""
        got = self.request("GET", f"/v2/{source}/blobs/{digest}", scope=f"repository:{source}:pull")
        _raise_for(got, f"reading blob {digest[:19]} of {source}")
        scope = f"repository:{repository}:pull,push"
        start = self.request("POST", f"/v2/{repository}/blobs/uploads/", scope=scope)
        _raise_for(start, f"starting an upload to {repository}")
        location = self._absolute(start.headers["Location"])
        joiner = "&" if "?" in location else "?"
        done = self.request(
            "PUT",
            f"{location}{joiner}digest={digest}",
            scope=scope,
            content=got.content,
            headers={"Content-Type": "application/octet-stream"},
        )
        _raise_for(done, f"uploading blob {digest[:19]} to {repository}")
        return len(got.content)

    def _absolute(self, location: str) -> str:
        return location if location.startswith("http") else self._base() + location


def _raise_for(response: httpx.Response, doing: str) -> None:
    if response.status_code >= 400:
        detail = ""
        try:
            errors = response.json().get("errors") or []
            detail = "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors)
        except ValueError:
            detail = response.text[:200]
        raise RegistryError(f"{doing}: HTTP {response.status_code}" + (f" ({detail})" if detail else ""))
