"""A retail-bank test world, written independently of the platform's demo world.

``world`` builds the population, its life events and needs, and writes the sources' landing
files day by day with the truth beside them; ``answers`` makes the world answer what the platform
delivered; ``loop`` drives history, pipeline runs and daily answers and scores the decisions
against the truth. Nothing here is imported by the platform.
"""
