"""The staff pages, rendered on the server: the Jinja2 templates and stylesheet (package data),
the wording in Nynorsk, Bokmål and English (`wording`), and rendering (`renderer`). The routes
are switchboard/routes/staff.py (sign-in, home) and switchboard/routes/reports.py."""
