"""What ``load_study`` keeps of the DICOM headers once the series are read (issue 10 item 6).

The SEG and SR copy the PET headers, so those stay; nothing later reads the CT's, and the
headers the discovery kept for reading are released, so that the rest of the analysis does not
carry (and garbage-collect) a whole-body CT's 600 datasets.
"""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest

from nenscope.dicom.synthetic import PhantomSettings, write_phantom_study
from nenscope.pipeline.study import discover_study, load_study


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("headers") / "study"
    write_phantom_study(folder, PhantomSettings(size="small", seed=3))
    return folder


def test_pet_headers_kept_ct_and_discovery_headers_released(study: Path) -> None:
    found = {ref.modality: ref for ref in discover_study(study)}
    # The discovery keeps them for reading.
    assert found["PT"].headers
    assert found["CT"].headers

    data = load_study(study)

    assert data.ct is not None
    assert data.ct_ref is not None
    # The PET's headers, one per slice in volume order, for the SEG and SR.
    assert len(data.pet.headers) == data.suv.shape[0] == found["PT"].n_instances
    assert all(isinstance(h, pydicom.Dataset) for h in data.pet.headers)
    # The CT's volume and identity stay; its datasets and the discovery's copies do not.
    assert data.ct.volume.shape[0] == found["CT"].n_instances
    assert data.ct.series_instance_uid == found["CT"].series_instance_uid
    assert len(data.ct.files) == found["CT"].n_instances
    assert data.ct.headers == ()
    assert data.pet_ref.headers == ()
    assert data.ct_ref.headers == ()
    # Everything else the discovery found is unchanged.
    assert data.pet_ref.files == found["PT"].files
    assert data.ct_ref.series_instance_uid == found["CT"].series_instance_uid
    assert data.pet_ref.n_instances == found["PT"].n_instances
