"""The `local` sink's own backup folder as a format the `local` source replays (`own.py`); other tools'
folders are read by the formats other plugins register (`migrator.folders`)."""
