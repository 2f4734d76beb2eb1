"""contract legacy"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"


def upgrade():
    # The expand release stopped using users.legacy_flag in v1.4 (see 0011).
    op.drop_column("users", "legacy_flag")  # preflight: allow drop-column - unused since v1.4


def downgrade():
    pass
