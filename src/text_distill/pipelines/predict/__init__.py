from .pipeline import INPUT, create_pipeline, served_model_kwargs

__all__ = ["INPUT", "create_pipeline", "served_model_kwargs"]
