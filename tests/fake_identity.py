"""A generated PET/CT study filled with a fake identity, to check that none of it leaks.

The values are invented and unusual enough that finding one in an output is never chance.
"""

from __future__ import annotations

from pathlib import Path

import pydicom

from nenscope.dicom.synthetic import PhantomSettings, write_phantom_study

PATIENT_ID = "PID-8841-7723"
FAKE_IDENTITY = {
    "PatientName": "Kowalczyk^Ermengarde^Quirina",
    "PatientID": PATIENT_ID,
    "PatientBirthDate": "19510317",
    "AccessionNumber": "ACC99173",
    "StudyID": "ST-77123",
    "ReferringPhysicianName": "Vandersloot^Heribert",
    "PerformingPhysicianName": "Oyelaran^Temitope",
    "OperatorsName": "Thorvaldsen^Brynjolf",
    "InstitutionName": "St. Wendelin Klinikum",
    "InstitutionAddress": "Kapuzinergasse 9, Quedlinburg",
    "PatientAddress": "Rosenweg 12, Hildesheim",
    "OtherPatientIDs": "ALT-5512-0098",
    "IssuerOfPatientID": "Wendelin KIS",
    "PatientComments": "daughter Rautgundis calls after 6 pm",
    "SeriesDescription": f"PET WB {PATIENT_ID}",
    "StudyDescription": "NET staging Kowalczyk",
}
"""Attribute -> fake value written into every file of the study."""

SECRETS = (
    "Kowalczyk",
    "Ermengarde",
    "Quirina",
    PATIENT_ID,
    "19510317",
    "1951-03-17",
    "ACC99173",
    "ST-77123",
    "Vandersloot",
    "Heribert",
    "Oyelaran",
    "Temitope",
    "Thorvaldsen",
    "Brynjolf",
    "Wendelin",
    "Kapuzinergasse",
    "Quedlinburg",
    "Rosenweg",
    "Hildesheim",
    "ALT-5512-0098",
    "Rautgundis",
)
"""Strings that must appear in no output meant to be free of identity (case-insensitive)."""


def write_identified_study(out_dir: Path, settings: PhantomSettings | None = None) -> Path:
    """Write a small phantom study and fill every file with :data:`FAKE_IDENTITY`."""
    write_phantom_study(out_dir, settings or PhantomSettings(size="small"))
    for path in sorted(out_dir.rglob("*.dcm")):
        ds = pydicom.dcmread(path)
        for keyword, value in FAKE_IDENTITY.items():
            setattr(ds, keyword, value)
        ds.save_as(path)
    return out_dir


def leaks(text: str) -> list[str]:
    """The secrets found in ``text`` (case-insensitive)."""
    folded = text.casefold()
    return [secret for secret in SECRETS if secret.casefold() in folded]
