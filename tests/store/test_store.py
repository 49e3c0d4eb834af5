"""Store operations on SQLite and PostgreSQL: import, accounts, tokens, review, audit."""

from __future__ import annotations

import errno
import hashlib
import shutil
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from nenscope.store import Store
from nenscope.store.accounts import (
    AccountError,
    TokenKind,
    authenticate,
    create_user,
    has_admin,
    issue_token,
    resolve_token,
)
from nenscope.store.imports import ImportLimits, UploadError, expand_upload, import_instances
from nenscope.store.models import (
    Analysis,
    AnalysisState,
    AnalysisVersion,
    AuditEvent,
    Instance,
    Lesion,
    Study,
    User,
)
from nenscope.store.review import apply_edit, current_result, undo_last_edit
from tests.service_components import study_files, zip_of


@pytest.fixture
def store(tmp_path: Path, db_url: str | None) -> Iterator[Store]:
    opened = Store(tmp_path / "data", db_url)
    yield opened
    opened.close()


def test_import_is_content_addressed_and_idempotent(store: Store, phantom_study: Path) -> None:
    files = study_files(phantom_study)
    first = import_instances(store, files, user=None, source="upload")
    assert first.created
    assert first.added == len(files)
    again = import_instances(store, files, user=None, source="upload")
    assert (again.study_id, again.created, again.added) == (first.study_id, False, 0)
    assert again.already_stored == len(files)
    with store.session() as session:
        study = session.get(Study, first.study_id)
        assert study is not None
        assert study.modalities == "CT,PT"
        shas = session.scalars(select(Instance.sha256)).all()
        assert len(shas) == len(files)
        events = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
        assert events == ["study.import", "study.reimport"]
    # Files live under their digest, never in the database.
    for sha in shas:
        assert store.files.path(sha).exists()


def _local_study(phantom_study: Path, folder: Path) -> dict[str, Path]:
    """A private copy of the study's DICOM files (links must not touch the shared fixture)."""
    folder.mkdir(parents=True)
    local = {}
    for p in sorted(phantom_study.rglob("*.dcm")):
        target = folder / p.name
        shutil.copyfile(p, target)
        local[p.name] = target
    return local


def _stored_files(store: Store) -> list[Path]:
    with store.session() as session:
        return [store.files.path(sha) for sha in session.scalars(select(Instance.sha256))]


def test_import_hard_links_local_files_on_the_same_file_system(
    store: Store, phantom_study: Path, tmp_path: Path
) -> None:
    local = _local_study(phantom_study, tmp_path / "study")
    files = [(name, p.read_bytes()) for name, p in local.items()]
    result = import_instances(store, files, user=None, source="cohort:m", paths=local)
    assert (result.added, result.linked) == (len(files), len(files))
    inodes = {p.stat().st_ino for p in local.values()}
    for stored in _stored_files(store):
        assert stored.stat().st_nlink == 2
        assert stored.stat().st_ino in inodes
        assert hashlib.sha256(stored.read_bytes()).hexdigest() == stored.parent.name + stored.name
    assert not list(store.files.root.rglob(".incoming-*"))
    with store.session() as session:
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert event is not None
        assert event.after["hard_linked"] == len(files)
    # Re-importing links nothing more.
    again = import_instances(store, files, user=None, source="cohort:m", paths=local)
    assert (again.added, again.linked) == (0, 0)


def _assert_copied(store: Store, local: dict[str, Path]) -> None:
    inodes = {p.stat().st_ino for p in local.values()}
    stored_files = _stored_files(store)
    assert len(stored_files) == len(local)
    for stored in stored_files:
        assert stored.stat().st_nlink == 1
        assert stored.stat().st_ino not in inodes
        assert hashlib.sha256(stored.read_bytes()).hexdigest() == stored.parent.name + stored.name


def test_import_copies_where_no_link_can_be_made(
    store: Store, phantom_study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local = _local_study(phantom_study, tmp_path / "study")
    files = [(name, p.read_bytes()) for name, p in local.items()]

    def cross_device(src: object, dst: object) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr("nenscope.store.files.os.link", cross_device)
    result = import_instances(store, files, user=None, source="cohort:m", paths=local)
    assert (result.added, result.linked) == (len(files), 0)
    _assert_copied(store, local)


def test_import_copies_across_real_file_systems(
    store: Store, phantom_study: Path, tmp_path: Path
) -> None:
    shm = Path("/dev/shm")
    if not shm.is_dir() or shm.stat().st_dev == store.files.root.stat().st_dev:
        pytest.skip("needs /dev/shm on another file system than the temporary folder")
    with tempfile.TemporaryDirectory(dir=shm) as other:
        local = _local_study(phantom_study, Path(other) / "study")
        files = [(name, p.read_bytes()) for name, p in local.items()]
        result = import_instances(store, files, user=None, source="cohort:m", paths=local)
        assert (result.added, result.linked) == (len(files), 0)
        _assert_copied(store, local)


def test_put_from_stores_the_bytes_that_were_read(store: Store, tmp_path: Path) -> None:
    source = tmp_path / "a.dcm"
    source.write_bytes(b"first content")
    read = source.read_bytes()
    source.write_bytes(b"changed after it was read")  # in place: same inode
    digest, linked = store.files.put_from(source, read)
    assert not linked
    assert digest == hashlib.sha256(b"first content").hexdigest()
    assert store.files.read(digest) == b"first content"
    assert store.files.path(digest).stat().st_ino != source.stat().st_ino
    assert not list(store.files.root.rglob(".incoming-*"))


def test_import_refuses_non_dicom_and_two_studies(
    store: Store, phantom_study: Path, other_phantom_study: Path
) -> None:
    with pytest.raises(UploadError, match="No DICOM instance"):
        import_instances(store, [("notes.txt", b"hello")], user=None, source="upload")
    other = other_phantom_study
    mixed = study_files(phantom_study)[:2] + study_files(other)[:2]
    with pytest.raises(UploadError, match="2 studies"):
        import_instances(store, mixed, user=None, source="upload")


def test_zip_upload_limits(phantom_study: Path) -> None:
    files = study_files(phantom_study)[:3]
    expanded = expand_upload([("s.zip", zip_of(files))])
    assert [data for _, data in expanded] == [data for _, data in files]
    # A zip bomb: 50 MB of zeros compresses ~1000:1.
    bomb = zip_of([("zeros.dcm", bytes(50_000_000))])
    with pytest.raises(UploadError, match="zip bomb"):
        expand_upload([("bomb.zip", bomb)])
    with pytest.raises(UploadError, match="limit"):
        expand_upload([("s.zip", zip_of(files))], ImportLimits(max_total_bytes=1000))


def test_accounts_tokens_and_expiry(store: Store) -> None:
    with store.session() as session:
        assert not has_admin(session)
        create_user(session, "root", role="admin", password="correct horse")
        with pytest.raises(AccountError, match="exists"):
            create_user(session, "root", role="admin", password="correct horse")
        with pytest.raises(AccountError, match="at least 8"):
            create_user(session, "doc", role="physician", password="short")
        with pytest.raises(ValueError, match="Did you mean 'physician'"):
            create_user(session, "doc", role="physican", password="long enough")
    with store.session() as session:
        assert has_admin(session)
        stored = session.scalar(select(User.password_hash))
        assert stored is not None
        assert stored.startswith("$argon2id$")
        assert authenticate(session, "root", "wrong password") is None
        assert authenticate(session, "nobody", "correct horse") is None
        user = authenticate(session, "root", "correct horse")
        assert user is not None
        live = issue_token(session, user, kind=TokenKind.API, lifetime=timedelta(hours=1))
        dead = issue_token(session, user, kind=TokenKind.API, lifetime=timedelta(seconds=-1))
    with store.session() as session:
        row = resolve_token(session, live.secret, kind=TokenKind.API)
        assert row is not None
        assert row.user.username == "root"
        assert resolve_token(session, dead.secret, kind=TokenKind.API) is None
        # A bearer token is not a browser session and vice versa.
        assert resolve_token(session, live.secret, kind=TokenKind.SESSION) is None


def _done_analysis(store: Store, study_id: int) -> int:
    result = {
        "format": "test",
        "report": {
            "lesions": [
                {"id": 1, "suvmax": 12.0, "centroid_mm": [1.0, 2.0, 3.0], "site": "liver"},
                {"id": 2, "suvmax": 4.0, "centroid_mm": [4.0, 5.0, 6.0], "site": "bone"},
            ]
        },
    }
    with store.session() as session:
        analysis = Analysis(study_id=study_id, status=AnalysisState.DONE.value, version=1)
        session.add(analysis)
        session.flush()
        session.add(
            AnalysisVersion(analysis_id=analysis.id, version=1, result=result, reason="analysis")
        )
        return analysis.id


def test_review_versions_history_and_undo(store: Store, phantom_study: Path) -> None:
    study_id = import_instances(
        store, study_files(phantom_study)[:1], user=None, source="upload"
    ).study_id
    analysis_id = _done_analysis(store, study_id)
    with store.session() as session:
        doc = create_user(session, "doc", role="physician", password="long enough")

    def reject(result: dict) -> dict:  # type: ignore[type-arg]
        result["report"]["lesions"][1]["status"] = "rejected"
        return result

    with store.session() as session:
        analysis = session.get(Analysis, analysis_id)
        assert analysis is not None
        apply_edit(
            session,
            analysis,
            user=doc,
            action="lesion.status",
            payload={"lesion_id": 2, "status": "rejected"},
            edit=reject,
        )
    with store.session() as session:
        analysis = session.get(Analysis, analysis_id)
        assert analysis is not None
        assert analysis.version == 2
        statuses = dict(session.execute(select(Lesion.lesion_key, Lesion.status)).all())
        assert statuses == {1: "candidate", 2: "rejected"}
        assert undo_last_edit(session, analysis, user=doc) == 3
    with store.session() as session:
        analysis = session.get(Analysis, analysis_id)
        assert analysis is not None
        lesions = current_result(session, analysis)["report"]["lesions"]
        assert "status" not in lesions[1]  # back to the analysis as run
        versions = session.scalar(select(func.count()).select_from(AnalysisVersion))
        assert versions == 3  # history is never rewritten
        actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
        assert actions[-2:] == ["analysis.lesion.status", "analysis.undo"]
