"""The trained classifier: corpus loading, features, the model, its evaluation."""
