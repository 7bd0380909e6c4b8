"""The latent explorer: a local web page with a control per code, a grid and a traversal that follow them, and Q's
estimates for a dropped image. ``server`` serves it from the PyTorch model (``infogan explore``); ``web`` writes it as a
static folder that runs the model in the browser with onnxruntime-web (``infogan export --format web``)."""
