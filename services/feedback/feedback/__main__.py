from feedback.bootstrap import create_app
from trip_shared.runtime import serve

serve(create_app, "feedback")
