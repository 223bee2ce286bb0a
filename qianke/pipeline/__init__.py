"""Deals (商机), sales processes with stage gates, buying center, value assessment, forecast."""
