# gunicorn entry point for the real Placement: the app configured from
# $OS_PLACEMENT_CONFIG_DIR/placement.conf (start.sh writes it and sets the variable).
from placement.wsgi import init_application

application = init_application()
