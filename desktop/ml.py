"""ML backends: Label Studio's model-server protocol, pre-labeling, batch predictions."""


class MLBackends:
    def __init__(self, core):
        self.core = core
