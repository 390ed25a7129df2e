"""The network algebra of the paper's model class: FNNs, SSM (convolution) layers, embeddings, models, counts."""
