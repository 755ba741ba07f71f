"""One router per resource; ``dashboards.app.create_app`` mounts them all."""
