"""``python -m twilio_webhook_contracts``: the ``webhook-contracts`` command, for environments
where the console script is not on ``PATH`` (a venv that is not activated, ``pipx run``)."""

import sys

from twilio_webhook_contracts.cli import main

if __name__ == "__main__":
    sys.exit(main())
