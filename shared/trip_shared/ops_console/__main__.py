"""``python -m trip_shared.ops_console``: serve the console (settings from the environment, see app.py)."""
import uvicorn

from trip_shared.ops_console.app import ConsoleSettings, create_app

settings = ConsoleSettings.from_env()
uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="warning")
