from django import forms


class RoomCreateForm(forms.Form):
    name = forms.CharField(label="Room name", max_length=80)
    topic = forms.CharField(label="Topic", max_length=250, required=False)
