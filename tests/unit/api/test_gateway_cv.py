"""CV analysis: text from PDF or plain text, skills by the offline taxonomy, via the gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from faststream.kafka import TestKafkaBroker
from interview_api.cv_analysis import CvUnreadableError, cv_text, extract_skills
from interview_api.main import create_app
from interview_api.settings import GatewaySettings
from interview_shared.blobs import MemoryBlobStore
from interview_shared.events import CvAnalyzed
from interview_store.memory import MemoryStore
from support import TEST_JWT_SECRET, StoreReadSide, bearer
from test_gateway_http import API, Pipeline, candidate, error_of

CV = (
    "Ada Lovelace. Backend engineer with 6 years of Python and Kafka (3+ years).\n"
    "Built microservices on Kubernetes; some C++ and Go. Led a team of four."
)


def pdf_of(text: str) -> bytes:
    """A minimal one-page PDF showing `text` in Helvetica (offsets computed, so it is valid)."""
    lines = " ".join(
        f"({line}) Tj T*" for line in text.replace("(", "[").replace(")", "]").split("\n")
    )
    stream = f"BT /F1 10 Tf 14 TL 40 800 Td {lines} ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def test_skills_come_with_evidence_and_the_years_the_cv_states() -> None:
    skills = extract_skills(CV)

    assert set(skills) == {
        "python", "kafka", "microservices", "kubernetes", "c++", "go", "leadership",
    }  # fmt: skip
    assert skills["python"].years == 6
    assert skills["kafka"].years == 3
    assert skills["kubernetes"].years is None
    assert skills["python"].evidence == [
        "Backend engineer with 6 years of Python and Kafka (3+ years)."
    ]
    assert "c" not in skills  # C++ is not C, and "Go" stands alone


def test_text_comes_out_of_a_pdf() -> None:
    assert "6 years of Python" in cv_text(pdf_of(CV), pdf=True)


def test_an_unreadable_file_is_refused() -> None:
    with pytest.raises(CvUnreadableError):
        cv_text(b"%PDF-1.4 garbage", pdf=True)
    with pytest.raises(CvUnreadableError):
        cv_text(b"\xff\xfe\x00", pdf=False)


@pytest.fixture
async def client() -> AsyncIterator[tuple[httpx.AsyncClient, Pipeline]]:
    read = StoreReadSide(MemoryStore())
    pipeline = Pipeline(read.store)
    app = create_app(
        GatewaySettings(
            read_your_writes_timeout_s=0.5, cv_max_bytes=50_000, jwt_secret=TEST_JWT_SECRET
        ),
        read=read,
        publisher=pipeline,
        key_ring=pipeline.keys,
        blobs=MemoryBlobStore(),
    )
    pipeline.broker = app.state.broker
    transport = httpx.ASGITransport(app=app)
    async with (
        TestKafkaBroker(app.state.broker),
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://test", headers=bearer()) as http,
    ):
        yield http, pipeline


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [("cv.pdf", pdf_of(CV), "application/pdf"), ("cv.txt", CV.encode(), "text/plain")],
    ids=["pdf", "text"],
)
async def test_an_uploaded_cv_is_analysed_and_listed(
    client: tuple[httpx.AsyncClient, Pipeline], name: str, data: bytes, content_type: str
) -> None:
    http, pipeline = client
    person = await candidate(http)

    response = await http.post(
        f"{API}/candidates/{person['id']}/cv", files={"file": (name, data, content_type)}
    )

    assert response.status_code == 201, response.text
    (analysis,) = response.json()
    assert analysis["skills"]["python"]["years"] == 6
    assert analysis["skills"]["kafka"]["evidence"]
    assert analysis["summary"].startswith(f"7 skills found in {name}")
    (event,) = pipeline.events(CvAnalyzed)
    assert set(event.skills) == set(analysis["skills"])
    listed = (await http.get(f"{API}/candidates/{person['id']}/cv-analyses")).json()
    assert listed == response.json()


@pytest.mark.parametrize(
    ("name", "data", "content_type", "status", "code"),
    [
        ("cv.docx", b"PK\x03\x04", "application/octet-stream", 415, "unsupported_cv"),
        ("cv.pdf", b"not a pdf", "application/pdf", 415, "unsupported_cv"),
        ("cv.pdf", b"%PDF-1.4 broken", "application/pdf", 422, "unreadable_cv"),
        ("cv.txt", b"x" * 60_000, "text/plain", 413, "file_too_large"),
    ],
    ids=["docx", "not-pdf", "broken-pdf", "too-large"],
)
async def test_bad_cvs_are_a_clear_4xx(
    client: tuple[httpx.AsyncClient, Pipeline],
    name: str,
    data: bytes,
    content_type: str,
    status: int,
    code: str,
) -> None:
    http, pipeline = client
    person = await candidate(http)

    response = await http.post(
        f"{API}/candidates/{person['id']}/cv", files={"file": (name, data, content_type)}
    )

    assert response.status_code == status, response.text
    assert error_of(response)["code"] == code
    assert pipeline.events(CvAnalyzed) == []


async def test_a_cv_for_an_unknown_candidate_is_404(
    client: tuple[httpx.AsyncClient, Pipeline],
) -> None:
    http, _ = client
    response = await http.post(
        f"{API}/candidates/00000000-0000-0000-0000-000000000000/cv",
        files={"file": ("cv.txt", CV.encode(), "text/plain")},
    )
    assert response.status_code == 404
