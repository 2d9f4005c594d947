"""Asynchronous access to blocking DB-API database drivers through a thread pool."""
