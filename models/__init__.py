"""Jirei's trained models (skops files and model_card.json), shipped as package data."""
