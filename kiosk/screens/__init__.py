"""One module + one .kv per screen; each .kv is loaded once, on import."""


def visitor_screens() -> dict:
    """The visitor flow's screens by name (imported here: loading .kv needs Kivy)."""
    from kiosk.screens.visitor_name import VisitorNameScreen
    from kiosk.screens.visitor_outcome import VisitorOutcomeScreen
    from kiosk.screens.visitor_phone import VisitorPhoneScreen
    from kiosk.screens.visitor_privacy import VisitorPrivacyScreen
    from kiosk.screens.visitor_purpose import VisitorPurposeScreen
    from kiosk.screens.visitor_returning import VisitorReturningScreen
    from kiosk.screens.visitor_sign_out import VisitorSignOutScreen
    from kiosk.screens.visitor_unit import VisitorUnitScreen

    return {
        "visitor_privacy": VisitorPrivacyScreen,
        "visitor_phone": VisitorPhoneScreen,
        "visitor_returning": VisitorReturningScreen,
        "visitor_name": VisitorNameScreen,
        "visitor_unit": VisitorUnitScreen,
        "visitor_purpose": VisitorPurposeScreen,
        "visitor_outcome": VisitorOutcomeScreen,
        "visitor_sign_out": VisitorSignOutScreen,
    }
