"""Project code that runs inside the Rasa server.

nlu/        custom NLU components: message guard, context extractor, crisis detector
policies/   the crisis policy that puts the emergency answer first in every state
nlg.py      the content generator: serves `content/` live, falls back to the model's texts
importer.py merges the content's responses into the domain at training time
channels/   input channels that neutralise "/intent" text and always answer
resilience.py bounded calls to the action server
"""
