// placeholder so the target has a source until policy lands
