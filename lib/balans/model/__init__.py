"""The model: the lever registry (levers.py), the engine (engine.py: the bridge's steps; engine_data.py: the case as arrays) and its results as tables and JSON (api.py)."""
