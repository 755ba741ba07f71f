"""The faces: the station's live alert wall and the REST/SSE API behind it."""
