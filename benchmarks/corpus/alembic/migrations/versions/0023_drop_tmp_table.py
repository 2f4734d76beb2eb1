"""drop tmp table"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"


def upgrade():
    op.drop_table("import_staging")  # expect: drop-table


def downgrade():
    pass
