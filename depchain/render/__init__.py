"""Renderers for people: each turns a scan result into text."""
