from django import forms


class RoomCreateForm(forms.Form):
    name = forms.CharField(label="Room name", max_length=80)
    topic = forms.CharField(label="Topic", max_length=250, required=False)
    private = forms.BooleanField(
        label="Private",
        required=False,
        help_text="Invite only: hidden from the room list and from everyone not in it.",
    )


class MemberAddForm(forms.Form):
    username = forms.CharField(label="Username", max_length=150)


class DirectMessageForm(forms.Form):
    usernames = forms.CharField(
        label="People",
        max_length=1200,
        help_text="Usernames separated by commas or spaces (one to seven people).",
    )

    def clean_usernames(self) -> list[str]:
        return [
            name for name in self.cleaned_data["usernames"].replace(",", " ").split()
        ]
