// placeholder so the target has a source until the codec lands
