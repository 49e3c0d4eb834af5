"""Subcommand modules; importing this package registers every command on the app.

Each module holds one command (or one small group) and registers it on
``nenscope.cli.app.app`` when imported. Add a new module to the import below.
"""

from nenscope.cli.commands import (  # noqa: F401  (imported for their registration side effect)
    adc,
    analyze,
    cohort,
    convert,
    deidentify,
    demo,
    dose,
    evidence,
    exams,
    info,
    model,
    phantom,
    radiomics,
    recommend,
    response,
    serve,
    suv,
)
