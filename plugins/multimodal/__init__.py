"""Multimodal interview analysis plugin: voice, facial expressions, gestures, eye gaze and posture."""
