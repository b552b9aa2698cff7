"""Call flows on the call-control API: one module per feature, each serving its kind of
destination (`features.destinations`). Importing the package registers every kind."""

from vaxel.features import (  # noqa: F401 - imported to register their destination kinds
    callback_menu,
    groups,
    ivr,
    main_number,
    outbound,
    user,
    voicemail,
)
