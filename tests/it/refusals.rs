//! Every refusal the emulator makes, as a client sees it (filled in with the services).
